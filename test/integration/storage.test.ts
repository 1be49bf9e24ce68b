/**
 * Storage from inside a container: every call crosses the runtime socket and the host performs
 * it against the real MinIO, within the function's grants.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { DockerDriver } from '../../src/pool/docker-driver.js';
import { Pool } from '../../src/pool/pool.js';
import { S3Gateway } from '../../src/storage/s3-gateway.js';
import { invoke } from '../../src/worker/invoke.js';
import {
  heartbeat,
  requireEngine,
  requireMinio,
  requireRuntimeImage,
  uniqueName,
} from '../helpers/services.js';
import { fnSpec } from '../helpers/spec.js';

const CODE = `
export async function handler(event, context) {
  const s = context.storage;
  const out = {};
  const got = await s.getObject(event.bucket, 'in/hello.txt');
  out.get = got.body.toString();
  out.contentType = got.contentType;
  out.put = await s.putObject(event.bucket, 'out/small.txt', 'small body', { contentType: 'text/plain' });
  const parts = [];
  for (let i = 0; i < 3; i++) {
    const r = await s.putObject(event.bucket, 'out/seq-' + i + '.txt', 'n' + i);
    parts.push(r.etag ? 'ok' : 'no etag');
  }
  out.seq = parts;
  out.list = (await s.listObjects(event.bucket, 'out/')).map((o) => o.key).sort();
  const denied = [];
  for (const [b, k] of [[event.bucket, 'secret/x'], [event.bucket, 'in/../secret/x'], ['not-granted-bucket', 'x']]) {
    try { await s.getObject(b, k); denied.push('allowed'); } catch (e) { denied.push(e.name); }
  }
  out.denied = denied;
  try { await s.getObject(event.bucket, 'in/missing.txt'); } catch (e) { out.missing = e.name; }
  return out;
}`;

describe('storage from a container', () => {
  let pool: Pool;
  let s3: S3Client;
  let stateDir: string;
  let stopBeat: () => Promise<void>;
  const bucket = uniqueName('stor');
  const instance = uniqueName('s').replace(/[^a-z0-9-]/g, '');

  beforeAll(async () => {
    const engine = await requireEngine();
    s3 = await requireMinio();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'in/hello.txt',
        Body: 'hello from minio',
        ContentType: 'text/x-test',
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret/x', Body: 'secret' }));
    stateDir = await mkdtemp(join(tmpdir(), 'faas-stor-'));
    stopBeat = await heartbeat(instance);
    pool = new Pool({
      driver: new DockerDriver(engine),
      storage: new S3Gateway(s3),
      image: await requireRuntimeImage(engine),
      instance,
      stateDir,
      logger: silentLogger,
      code: async () => CODE,
      prewarm: 0,
      hostCap: 2,
      genericLimits: { memoryBytes: 128 * 1024 * 1024, cpu: 1, pids: 64 },
    });
    await pool.start();
  });

  afterAll(async () => {
    await pool?.close();
    await stopBeat?.();
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const o of listed.Contents ?? [])
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('reads, writes and lists within grants; refuses the rest with PermissionError', async () => {
    const spec = fnSpec('stor', {
      storage: {
        read: [
          { bucket, prefix: 'in/' },
          { bucket, prefix: 'out/' },
        ],
        write: [{ bucket, prefix: 'out/' }],
      },
    });
    const res = await invoke(pool, spec, { id: 'stor.1', event: { bucket }, attempt: 1 });
    expect(res.error).toBeUndefined();
    expect(res.value).toMatchObject({
      get: 'hello from minio',
      contentType: 'text/x-test',
      seq: ['ok', 'ok', 'ok'],
      list: ['out/seq-0.txt', 'out/seq-1.txt', 'out/seq-2.txt', 'out/small.txt'],
      denied: ['PermissionError', 'PermissionError', 'PermissionError'],
      missing: 'NoSuchKey',
    });
    const small = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'out/small.txt' }));
    expect(small.ContentType).toBe('text/plain');
    expect(await small.Body?.transformToString()).toBe('small body');
  });
});
