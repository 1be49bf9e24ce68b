/**
 * Lambda code unchanged: a handler that uses `new S3Client({})`, `Upload` and a presigned URL
 * reaches MinIO through the S3 endpoint on its container's loopback, the host checking every
 * request against the function's grants and signing it with the platform's credentials.
 * Everything the handler writes is read back from the host, byte for byte.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bundler } from '../../src/build/bundle.js';
import { silentLogger } from '../../src/observability/logger.js';
import { DockerDriver } from '../../src/pool/docker-driver.js';
import { Pool } from '../../src/pool/pool.js';
import { S3Gateway } from '../../src/storage/s3-gateway.js';
import { S3Proxy } from '../../src/storage/s3-proxy/proxy.js';
import { invoke } from '../../src/worker/invoke.js';
import { FIXTURES } from '../helpers/platform.js';
import { dropBucket, listKeys } from '../helpers/s3.js';
import {
  config,
  heartbeat,
  requireEngine,
  requireMinio,
  requireRuntimeImage,
  uniqueName,
} from '../helpers/services.js';
import { fnSpec } from '../helpers/spec.js';

/** Keys S3 clients commonly get wrong: spaces, `+`, `%`, unicode, and query characters. */
const KEYS = ['in/plain.txt', 'in/a b+c.txt', 'in/100% sure ü ✓.txt', 'in/q?x=1&y=2=.txt'];
const body = (key: string) => `contents of ${key}: ünïcödé ✓ ${'x'.repeat(100)}`;
const MB = 1024 * 1024;

/** The sha256 of the bytes the fixture generates (xorshift32 from the same seed; `size` a multiple of 4). */
function expectedSha(size: number): string {
  const out = createHash('sha256');
  let x = 2463534242;
  for (let done = 0; done < size;) {
    const words = new Uint32Array(Math.min(size - done, MB) / 4);
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x >>> 0;
    }
    out.update(new Uint8Array(words.buffer));
    done += words.byteLength;
  }
  return out.digest('hex');
}

async function read(s3: S3Client, Bucket: string, Key: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket, Key }));
  return Buffer.from(
    await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

describe('the S3 endpoint inside a container', () => {
  let pool: Pool;
  let proxy: S3Proxy;
  let s3: S3Client;
  let stateDir: string;
  let stopBeat: () => Promise<void>;
  const bucket = uniqueName('s3ep');
  const instance = uniqueName('s3').replace(/[^a-z0-9-]/g, '');
  const handlerFile = join(FIXTURES, 's3-sdk', 'index.mjs');
  const wide = fnSpec('s3wide', {
    handlerFile,
    memoryBytes: 512 * MB,
    timeoutMs: 120_000,
    storage: {
      read: [
        { bucket, prefix: 'in/' },
        { bucket, prefix: 'out/' },
        { bucket, prefix: 'big/' },
      ],
      write: [
        { bucket, prefix: 'out/' },
        { bucket, prefix: 'big/' },
        { bucket, prefix: 'tmp/' },
      ],
    },
  });
  const narrow = fnSpec('s3narrow', {
    handlerFile,
    storage: { read: [{ bucket, prefix: 'in/' }], write: [{ bucket, prefix: 'out/' }] },
  });
  let seq = 0;
  const run = async (spec: typeof wide, event: Record<string, unknown>) => {
    const res = await invoke(pool, spec, { id: `s3ep.${++seq}`, event: { bucket, ...event }, attempt: 1 });
    expect(res.error, JSON.stringify(res.error)).toBeUndefined();
    return res.value;
  };

  beforeAll(async () => {
    const engine = await requireEngine();
    s3 = await requireMinio();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const Key of KEYS)
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key,
          Body: body(Key),
          ContentType: 'text/x-test',
          Metadata: { origin: 'host' },
        }),
      );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret/x', Body: 'secret' }));
    stateDir = await mkdtemp(join(tmpdir(), 'faas-s3ep-'));
    stopBeat = await heartbeat(instance);
    proxy = new S3Proxy({
      endpoint: new URL(config.S3_ENDPOINT),
      region: config.S3_REGION,
      credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
    });
    const bundler = new Bundler();
    pool = new Pool({
      driver: new DockerDriver(engine),
      storage: new S3Gateway(s3),
      s3: proxy,
      image: await requireRuntimeImage(engine),
      instance,
      stateDir,
      logger: silentLogger,
      code: (spec) => bundler.code(spec),
      prewarm: 0,
      hostCap: 3,
      genericLimits: { memoryBytes: 128 * MB, cpu: 1, pids: 64 },
    });
    await pool.start();
  });

  afterAll(async () => {
    await pool?.close();
    proxy?.close();
    await stopBeat?.();
    if (s3) await dropBucket(s3, bucket);
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('heads, reads (whole and ranged) and writes objects whose keys need encoding', async () => {
    const out = (await run(wide, { action: 'transform', keys: KEYS })) as Array<Record<string, unknown>>;
    for (const [i, key] of KEYS.entries()) {
      const text = body(key);
      expect(out[i]).toEqual({
        key,
        size: Buffer.byteLength(text),
        contentType: 'text/x-test',
        metadata: { origin: 'host' },
        range: Buffer.from(text).subarray(2, 7).toString(),
        contentRange: `bytes 2-6/${Buffer.byteLength(text)}`,
        outKey: key.replace('in/', 'out/'),
      });
      expect(
        (await read(s3, bucket, key.replace('in/', 'out/'))).equals(Buffer.from(text.toUpperCase())),
      ).toBe(true);
    }
  });

  it('lists within a grant, copies, deletes', async () => {
    expect(await run(wide, { action: 'list', prefix: 'in/' })).toEqual([...KEYS].sort());
    const from = KEYS[2] as string;
    await run(wide, { action: 'copy', from, to: 'tmp/copied ü+%.txt' });
    expect((await read(s3, bucket, 'tmp/copied ü+%.txt')).toString()).toBe(body(from));
    await run(wide, { action: 'remove', key: 'tmp/copied ü+%.txt' });
    expect(await listKeys(s3, bucket, 'tmp/')).toEqual([]);
  });

  it('uploads 50 MB with lib-storage Upload (multipart) and reads it back intact', async () => {
    const size = 50 * MB;
    const key = 'big/fifty mb+ü.bin';
    const out = (await run(wide, { action: 'multipart', key, size })) as { sha256: string; size: number };
    const expected = expectedSha(size);
    expect(out.sha256).toBe(expected);
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(res.ContentLength).toBe(size);
    const hash = createHash('sha256');
    for await (const chunk of res.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
    expect(hash.digest('hex')).toBe(expected);
  }, 180_000);

  it('serves a presigned GET URL fetched inside the function', async () => {
    const key = KEYS[3] as string;
    expect(await run(wide, { action: 'presigned', key })).toEqual({ status: 200, body: body(key) });
  });

  it('refuses every call outside the grants with AccessDenied, and writes nothing', async () => {
    const before = (await listKeys(s3, bucket)).sort();
    const calls = [
      { action: 'get', key: 'secret/x' },
      { action: 'get', bucket: 'faas-code', key: 'in/x' },
      { action: 'get', key: 'in/../secret/x' },
      { action: 'put', key: 'in/new.txt', body: 'nope' },
      { action: 'put', key: 'elsewhere.txt', body: 'nope' },
      { action: 'remove', key: KEYS[0] },
      { action: 'list', prefix: '' },
      { action: 'list', prefix: 'secret/' },
      { action: 'copy', from: 'secret/x', to: 'out/stolen.txt' },
      { action: 'copy', from: KEYS[0], to: 'in/copy.txt' },
      { action: 'multipart', key: 'big/x.bin', size: 6 * MB },
      { action: 'head', key: 'secret/x' },
    ].map((c) => ({ bucket, ...c }));
    const names = await run(narrow, { action: 'outside', calls });
    // A HEAD answer has no body to name the error: the SDK calls it Unknown (as with AWS itself).
    expect(names).toEqual([...Array(calls.length - 1).fill('AccessDenied 403'), 'Unknown 403']);
    const presigned = (await run(narrow, { action: 'presigned', key: 'secret/x' })) as {
      status: number;
      body: string;
    };
    expect(presigned.status).toBe(403);
    expect(presigned.body).toMatch(
      /<Code>AccessDenied<\/Code><Message>GetObject [^<]*secret\/x is not allowed: grant it under storage\.read/,
    );
    expect((await listKeys(s3, bucket)).sort()).toEqual(before);
  });

  it('leaves the container without a network interface but lo', async () => {
    expect(await run(narrow, { action: 'interfaces' })).toEqual(['lo']);
  });
});
