/**
 * Which Redis connections belong to one process, exactly: the local ports of the TCP sockets the
 * process holds open (its /proc/<pid>/fd socket inodes, looked up in /proc/net/tcp{,6}) are the
 * client ports Redis shows in CLIENT LIST. Other users of the same Redis (tests running beside the
 * benchmark) never match, unlike a count before and after.
 */
import { readdir, readlink, readFile } from 'node:fs/promises';

/**
 * Local TCP ports of the sockets `pid` holds whose remote end is `remotePort`.
 * @param {number} pid
 * @param {number} remotePort
 * @returns {Promise<Set<number>>}
 */
export async function localPortsTo(pid, remotePort) {
  const inodes = new Set();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]);
  }
  const ports = new Set();
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (f.length < 10 || !inodes.has(f[9])) continue;
      const local = parseInt(f[1].split(':')[1], 16);
      const remote = parseInt(f[2].split(':')[1], 16);
      // 01: ESTABLISHED
      if (remote === remotePort && f[3] === '01') ports.add(local);
    }
  }
  return ports;
}

/**
 * One CLIENT LIST line as an object (`id`, `addr`, `name`, `cmd`, `age`, `idle`, …).
 * @param {string} line
 * @returns {Record<string, string>}
 */
export function parseClient(line) {
  return Object.fromEntries(
    line
      .trim()
      .split(' ')
      .map((kv) => {
        const i = kv.indexOf('=');
        return [kv.slice(0, i), kv.slice(i + 1)];
      }),
  );
}

/**
 * The CLIENT LIST entries of the connections `pid` holds to this Redis.
 * @param {import('ioredis').Redis} redis
 * @param {number} pid
 * @returns {Promise<Array<Record<string, string>>>}
 */
export async function clientsOf(redis, pid) {
  const redisPort = Number(redis.options.port ?? 6379);
  if (redis.options.path) throw new Error('counting a process’s connections needs Redis over TCP');
  const ports = await localPortsTo(pid, redisPort);
  const list = /** @type {string} */ (await redis.client('LIST'));
  return list
    .split('\n')
    .filter(Boolean)
    .map(parseClient)
    .filter((c) => ports.has(Number(c.addr?.split(':').at(-1))));
}

/**
 * Connections grouped by what tells them apart: the name with every function name replaced by
 * `<fn>`, and the last command. `perFunction` counts groups whose name held a function name.
 * @param {Array<Record<string, string>>} clients
 * @param {(s: string) => string} generalize replaces function names (and ids) by placeholders
 */
export function connectionProfile(clients, generalize) {
  /** @type {Record<string, number>} */
  const groups = {};
  for (const c of clients) {
    const key = `name=${generalize(decodeName(c.name ?? ''))} cmd=${c.cmd}`;
    groups[key] = (groups[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(groups).sort((a, b) => b[1] - a[1]));
}

/**
 * BullMQ names its connections `<prefix>:<base64 queue name>[:w:<worker>]`: the queue name, readable.
 * @param {string} name
 */
export function decodeName(name) {
  const m = /^([^:]+):([A-Za-z0-9+/=]+)(:.*)?$/.exec(name);
  if (!m) return name;
  const decoded = Buffer.from(m[2], 'base64').toString('utf8');
  return /^[\x20-\x7e]+$/.test(decoded) ? `${m[1]}:${decoded}${m[3] ?? ''}` : name;
}
