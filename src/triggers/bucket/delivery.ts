/** How bucket events reach this platform process. */
export type BucketEventMode = 'webhook' | 'listen' | 'poll';

/** What this process does about bucket events, and why when it is not what was configured. */
export interface BucketDelivery {
  mode: BucketEventMode;
  /** Set when the configured mode cannot work here and another was chosen instead. */
  fallback?: string;
}

/** Hosts at which a server bound to `bindHost` can be reached from this machine's loopback. */
function loopbackReachable(bindHost: string): boolean {
  return ['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::'].includes(bindHost);
}

function sameEndpoint(target: URL, bindHost: string, port: number): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const targetPort = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  if (targetPort !== port) return false;
  const loopbackTarget = host === 'localhost' || host === '::1' || /^127\./.test(host);
  return loopbackTarget ? loopbackReachable(bindHost) : host === bindHost;
}

/**
 * Decides how bucket events reach this process (pure). MinIO's webhook target posts to the
 * address fixed when MinIO started (`targetEndpoint`, written by `services:up`); a platform
 * listening elsewhere would never see an upload, so it takes them over MinIO's listen API
 * instead, with catch-up by listing, and says why.
 * @param targetEndpoint the target's URL, or undefined when MinIO was configured by hand
 * @example bucketDelivery({ configured: 'webhook', targetEndpoint: 'http://127.0.0.1:8080/minio/events', bindHost: '127.0.0.1', port: 18080 })
 * // { mode: 'listen', fallback: 'MinIO posts bucket events to http://127.0.0.1:8080/minio/events, …' }
 */
export function bucketDelivery(o: {
  configured: BucketEventMode;
  targetEndpoint: string | undefined;
  bindHost: string;
  port: number;
}): BucketDelivery {
  if (o.configured !== 'webhook' || o.targetEndpoint === undefined) return { mode: o.configured };
  let target: URL;
  try {
    target = new URL(o.targetEndpoint);
  } catch {
    return {
      mode: 'listen',
      fallback: `MinIO's event target address ${JSON.stringify(o.targetEndpoint)} is not a URL`,
    };
  }
  if (sameEndpoint(target, o.bindHost, o.port)) return { mode: 'webhook' };
  return {
    mode: 'listen',
    fallback:
      `MinIO posts bucket events to ${target.href}, not to this platform (${o.bindHost}:${o.port}); ` +
      `receiving them over MinIO's listen API with catch-up by listing every 2 s instead. For MinIO's durable ` +
      `queue, run the platform on port ${target.port || 80}, or restart MinIO for this port with ` +
      `\`npm run services:down && FAAS_PORT=${o.port} npm run services:up\``,
  };
}
