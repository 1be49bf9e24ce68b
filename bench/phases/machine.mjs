/** What the figures were measured on. */
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { docker } from '../lib/docker.mjs';
import { connect } from '../lib/redis.mjs';

/**
 * MinIO's version, from the name of the binary services:up built (`minio-<version>`).
 * @param {string} stateDir
 */
async function minioVersion(stateDir) {
  try {
    const pid = (await readFile(join(stateDir, 'pids', 'minio.pid'), 'utf8')).trim();
    const argv0 = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')[0];
    return basename(argv0).replace(/^minio-?/, '') || 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Redis's run id (a new one after every restart).
 * @param {import('ioredis').Redis} redis
 */
export async function redisRunId(redis) {
  return /run_id:(\S+)/.exec(await redis.info('server'))?.[1];
}

/**
 * @param {{ REDIS_URL: string, stateDir: string }} config
 */
export async function machineInfo(config) {
  const redis = connect(config.REDIS_URL);
  try {
    const info = await redis.info('server');
    return {
      required: {
        cpus: cpus().length,
        node: process.version,
        docker: await docker(['version', '--format', '{{.Server.Version}}']).catch(() => 'unknown'),
        redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
        minio: await minioVersion(config.stateDir),
      },
      redisRunId: /run_id:(\S+)/.exec(info)?.[1],
      more: {
        cpu_model: cpus()[0]?.model,
        memory_gb: Math.round(totalmem() / 2 ** 30),
        load_average_at_start: loadavg().map((x) => Number(x.toFixed(2))),
      },
    };
  } finally {
    redis.disconnect();
  }
}
