/**
 * The platform's connections to the services it runs on (Redis, the object store, the Docker
 * engine), and the checks that refuse to start without them.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { EngineApi } from '../pool/engine-api.js';
import { engineAddress } from '../pool/engine-host.js';
import type { S3ProxyOptions } from '../storage/s3-proxy/proxy.js';
import { StoreApi } from '../triggers/bucket/store-api.js';
import { UserError } from '../util/user-error.js';
import { checkDocker, checkRedis, checkStorage } from '../cli/preflight.js';
import type { Roles } from './roles.js';

export function s3Client(config: Config): S3Client {
  return new S3Client({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
  });
}

/** Where the containers' S3 requests go, signed with the platform's own credentials. */
export function s3ProxyOptions(config: Config): S3ProxyOptions {
  return {
    endpoint: new URL(config.S3_ENDPOINT),
    region: config.S3_REGION,
    credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
  };
}

/** The store's bucket-notification and listen calls (MinIO's API beyond plain S3). */
export function minioClient(config: Config): StoreApi {
  return new StoreApi(s3ProxyOptions(config));
}

export async function readTargetToken(stateDir: string): Promise<string> {
  const file = join(stateDir, 'minio-events.token');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    throw new UserError(
      "no token for MinIO's bucket-event target",
      `set FAAS_MINIO_EVENTS_TOKEN or run \`npm run services:up\` (it writes ${file})`,
    );
  }
}

/** Where `services:up` started MinIO's webhook target posting; undefined when it did not. */
export async function readTargetEndpoint(stateDir: string): Promise<string | undefined> {
  try {
    return (await readFile(join(stateDir, 'minio-events.endpoint'), 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Refuses to start when a service this process needs does not answer; nothing is started yet. */
export async function preflight(config: Config, roles: Roles): Promise<void> {
  // First, before anything is deployed or pruned: a second `faas up` on a port in use changes nothing.
  if (roles.api) await checkPort(config);
  await checkRedis(config.REDIS_URL);
  const s3 = s3Client(config);
  try {
    await checkStorage(s3, config.S3_ENDPOINT);
  } finally {
    s3.destroy();
  }
  if (roles.workers) {
    const engine = engineApi(config);
    try {
      await checkDocker(engine);
    } finally {
      engine.close();
    }
  }
}

/**
 * A client of this host's Docker engine, where DOCKER_HOST (with DOCKER_TLS_VERIFY and
 * DOCKER_CERT_PATH) says, as the docker CLI reads them.
 * @throws UserError for an address the platform cannot speak to (ssh://, missing certificates)
 */
export function engineApi(config: Config): EngineApi {
  return new EngineApi(engineAddress(config));
}

/** Refuses a port the API could not listen on (in use, not permitted, not this host's address). */
async function checkPort(config: Config): Promise<void> {
  if (config.FAAS_PORT === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, config)));
    probe.listen({ port: config.FAAS_PORT, host: config.apiHost, exclusive: true }, () =>
      probe.close(() => resolve()),
    );
  });
}

/** The API's port cannot be had: say which and what to do. */
export function listenError(err: NodeJS.ErrnoException, config: Config): Error {
  const at = `${config.apiHost}:${config.FAAS_PORT}`;
  if (err.code === 'EADDRINUSE')
    return new UserError(`${at} is in use`, 'stop what listens there, or set FAAS_PORT');
  if (err.code === 'EACCES')
    return new UserError(`no permission to listen on ${at}`, 'set FAAS_PORT above 1023');
  if (err.code === 'EADDRNOTAVAIL')
    return new UserError(`${config.apiHost} is not an address of this host`, 'fix FAAS_HOST');
  return err;
}

/** Default container cap: half the host's memory in 128 MiB containers, at most 64. */
export function defaultHostCap(): number {
  return Math.max(2, Math.min(64, Math.floor((totalmem() * 0.5) / (128 * 1024 * 1024))));
}

/** Longest a health check waits for a dependency: one that does not answer in time is down. */
const HEALTH_TIMEOUT_MS = 2000;

/** Runs a health check with a deadline: how long it took, and why it failed. */
export async function timed(
  fn: () => Promise<unknown>,
  timeoutMs = HEALTH_TIMEOUT_MS,
): Promise<{ ok: boolean; ms: number; error?: string }> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([fn(), late]);
    return { ok: true, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    return { ok: false, ms: Math.round(performance.now() - t0), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
