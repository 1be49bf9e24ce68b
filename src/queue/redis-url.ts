/**
 * `REDIS_URL` names either one Redis (`redis://` / `rediss://`, as ioredis reads it) or a Redis
 * Cluster through seed nodes: `redis+cluster://[user:password@]host:port[,host:port...]` (or
 * `rediss+cluster://` for TLS). Any reachable seed will do: the client learns the rest of the
 * cluster from it.
 */

export interface ClusterUrl {
  seeds: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  tls: boolean;
}

const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\/(.*)$/i;

/** Whether the URL names a Redis Cluster (its seeds may still be malformed: see parseClusterUrl). */
export function isClusterUrl(url: string): boolean {
  return CLUSTER_SCHEME.test(url);
}

/**
 * The seeds and credentials of a cluster URL.
 * @throws Error naming what is wrong, for config validation
 * @example parseClusterUrl('redis+cluster://127.0.0.1:7001,127.0.0.1:7002').seeds // [{ host: '127.0.0.1', port: 7001 }, ...]
 */
export function parseClusterUrl(url: string): ClusterUrl {
  const m = CLUSTER_SCHEME.exec(url);
  if (!m) throw new Error('not a redis+cluster:// URL');
  let rest = (m[2] ?? '').replace(/\/+$/, '');
  if (/[/?#]/.test(rest)) throw new Error('a cluster URL has no path or query: only host:port seeds');
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const auth = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = auth.indexOf(':');
    const user = decodeURIComponent(colon >= 0 ? auth.slice(0, colon) : auth);
    username = user || undefined;
    password = colon >= 0 ? decodeURIComponent(auth.slice(colon + 1)) : undefined;
  }
  const seeds = rest.split(',').map((seed) => {
    const s = /^(\[[0-9a-f:.]+\]|[^:[\]\s]+):(\d{1,5})$/i.exec(seed.trim());
    const port = Number(s?.[2]);
    if (!s || port < 1 || port > 65535) throw new Error(`seed "${seed}" is not host:port`);
    return { host: (s[1] as string).replace(/^\[(.*)\]$/, '$1'), port };
  });
  return { seeds, username, password, tls: m[1]?.toLowerCase() === 'rediss' };
}

/**
 * What REDIS_URL must be, when it cannot be used as it is (undefined when it can), worded to
 * follow "must be".
 * @example redisUrlProblem('redis+cluster://a') // 'redis+cluster://host:port,host:port,... (seed "a" is not host:port)'
 */
export function redisUrlProblem(url: string): string | undefined {
  if (isClusterUrl(url)) {
    try {
      parseClusterUrl(url);
      return undefined;
    } catch (err) {
      return `redis+cluster://host:port,host:port,... naming seed nodes of the cluster (${(err as Error).message})`;
    }
  }
  try {
    if (/^rediss?:$/.test(new URL(url).protocol)) return undefined;
  } catch {
    // not a URL at all: said below
  }
  // Said as before cluster URLs existed; the README's Configuration names redis+cluster://.
  return 'a URL such as redis://127.0.0.1:6379';
}
