/**
 * The bucket path end to end, on the real services: `faas up` as its own process, uploads through
 * the S3 API, the function in a sandboxed container, its output read back from MinIO.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Producer } from '../../src/queue/producer.js';
import { encodeS3Key } from '../../src/queue/s3-event.js';
import { bucketDedupKey, normalizeRecord } from '../../src/triggers/bucket/record.js';
import { dropBucket, listKeys } from '../helpers/s3.js';
import { fnSpec } from '../helpers/spec.js';
import {
  bucketEventsEnv,
  eventually,
  startPlatformProcess,
  type RunningPlatform,
} from '../helpers/platform.js';
import { requireDocker, requireMinio, requireRedis, uniqueName } from '../helpers/services.js';

/** Keys that exercise URL encoding in notifications: spaces, '+', '%', unicode, nesting. */
function mixedKeys(): { matching: string[]; other: string[] } {
  const stems = [
    'plain',
    'with space',
    'plus+sign',
    'percent%25literal',
    '100% done',
    'a+b c',
    'données/été ☃',
    '日本語/ファイル',
    'deep/nested/dir/file',
    'emoji 🚀 rocket',
    'quote\'and"dq',
    'semi;colon=eq&amp',
    '(paren) [bracket]',
    'tilde~hash#',
  ];
  const matching: string[] = [];
  for (let i = 0; matching.length < 70; i++) matching.push(`data/${stems[i % stems.length]} ${i}.csv`);
  const other: string[] = [];
  for (let i = 0; other.length < 30; i++) {
    const stem = stems[i % stems.length];
    other.push(
      i % 3 === 0 ? `data/${stem} ${i}.txt` : i % 3 === 1 ? `elsewhere/${stem} ${i}.csv` : `${stem} ${i}.csv`,
    );
  }
  return { matching, other };
}

describe('bucket trigger, end to end', () => {
  let s3: S3Client;
  let platform: RunningPlatform;
  const input = uniqueName('in');
  const output = uniqueName('out');
  const other = uniqueName('forbidden');

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    s3 = await requireMinio();
    for (const Bucket of [input, output, other]) await s3.send(new CreateBucketCommand({ Bucket }));
    platform = await startPlatformProcess(
      `version: 1
functions:
  copy-key:
    handler: copy-key/index.handler
    scale: { max: 4 }
    env: { OUT_BUCKET: ${output} }
    storage: { write: [${output}] }
    triggers:
      - bucket: ${input}
        prefix: data/
        suffix: .csv
  stream-copy:
    handler: stream-copy/index.handler
    timeout: 120s
    memory: 128Mi
    env: { OUT_BUCKET: ${output} }
    storage: { read: [${input}/big/], write: [${output}/copy/] }
    triggers:
      - bucket: ${input}
        prefix: big/
  broken:
    handler: broken/index.handler
    timeout: 2s
    memory: 64Mi
    retry: { attempts: 1 }
  probe:
    handler: probe/index.handler
    retry: { attempts: 1 }
    storage: { write: [${output}] }
`,
      ['copy-key', 'stream-copy', 'broken', 'probe'],
      await bucketEventsEnv(),
    );
  }, 120_000);

  afterAll(async () => {
    const code = await platform?.stop();
    expect(code).toBe(0);
    for (const b of [input, output, other]) await dropBucket(s3, b);
    s3?.destroy();
  }, 120_000);

  it('runs the function once per matching upload, with the exact key, and never for the others', async () => {
    const { matching, other: skipped } = mixedKeys();
    const all = [...matching, ...skipped].sort(() => Math.random() - 0.5);
    for (let i = 0; i < all.length; i += 10) {
      await Promise.all(
        all
          .slice(i, i + 10)
          .map((Key) => s3.send(new PutObjectCommand({ Bucket: input, Key, Body: `body of ${Key}` }))),
      );
    }
    const outputs = await eventually(
      'one output per matching upload',
      async () => {
        const keys = await listKeys(s3, output, 'out/');
        return keys.length >= matching.length ? keys : undefined;
      },
      90_000,
    );
    expect(outputs.sort()).toEqual(matching.map((k) => `out/${k}`).sort());
    // Executions are counted by the function's own `runs/` objects: exactly one per upload.
    await eventually('runs settled', async () =>
      (await listKeys(s3, output, 'runs/')).length >= matching.length ? true : undefined,
    );
    expect((await listKeys(s3, output, 'runs/')).length).toBe(matching.length);

    // Every output names its invocation; its record has status, timings and cold/warm.
    let cold = 0;
    for (const key of matching.slice(0, 25)) {
      const res = await s3.send(new GetObjectCommand({ Bucket: output, Key: `out/${key}` }));
      const body = JSON.parse(
        await (res.Body as { transformToString(): Promise<string> }).transformToString(),
      );
      // The handler saw the key encoded as S3 encodes it, and decoding it as handlers do gave the key.
      expect(body).toMatchObject({
        key,
        rawKey: encodeS3Key(key),
        size: Buffer.byteLength(`body of ${key}`),
        eventName: 'ObjectCreated:Put',
      });
      const rec = (await (await fetch(`${platform.url}/invocations/${body.id}`)).json()) as Record<
        string,
        unknown
      >;
      expect(rec).toMatchObject({ id: body.id, function: 'copy-key', status: 'succeeded', attempts: 1 });
      expect(typeof rec.cold).toBe('boolean');
      expect((rec.timings as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(0);
      expect((rec.logs as Array<{ msg: string }>).map((l) => l.msg)).toEqual([`copied ${key}`]);
      if (rec.cold) cold++;
    }
    expect(cold).toBeLessThanOrEqual(4);
  }, 180_000);

  it('runs a notification delivered twice only once', async () => {
    const key = `data/${uniqueName('dup')} +%.csv`;
    // The same notification three times, as a sender does after a reconnect or a retry.
    const record = normalizeRecord({
      eventVersion: '2.0',
      eventSource: 'minio:s3',
      awsRegion: '',
      eventTime: new Date().toISOString(),
      eventName: 's3:ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: input },
        object: {
          key: encodeURIComponent(key),
          size: 3,
          eTag: 'd41d8cd98f00b204e9800998ecf8427e',
          sequencer: '17A0B1C2D3E4F5A6',
        },
      },
    });
    const redis = await requireRedis();
    const producer = new Producer(redis, { 'copy-key': fnSpec('copy-key') }, 3600);
    try {
      const event = {
        functionName: 'copy-key',
        payload: { source: 'bucket' as const, record, enqueuedAt: Date.now() },
        dedupKey: bucketDedupKey(record),
      };
      const [a, b] = await producer.enqueue([event, event]);
      const [c] = await producer.enqueue([event]);
      expect(a).toBe(b);
      expect(c).toBe(a);
      await eventually('the redelivered run', async () => {
        const r = (await (await fetch(`${platform.url}/invocations/${a}`)).json()) as { status: string };
        return r.status === 'succeeded' ? true : undefined;
      });
    } finally {
      await producer.close();
      redis.disconnect();
    }
    const runs = [];
    for (const k of await listKeys(s3, output, 'runs/')) {
      const res = await s3.send(new GetObjectCommand({ Bucket: output, Key: k }));
      if ((await (res.Body as { transformToString(): Promise<string> }).transformToString()) === key)
        runs.push(k);
    }
    expect(runs).toHaveLength(1);
  }, 60_000);

  it('moves a 100 MB object through a function while the platform stays under 250 MB', async () => {
    const size = 100 * 1024 * 1024;
    const chunk = randomBytes(1024 * 1024);
    const hash = createHash('sha256');
    async function* body() {
      for (let i = 0; i < size / chunk.length; i++) {
        hash.update(chunk);
        yield chunk;
      }
    }
    await new Upload({
      client: s3,
      params: { Bucket: input, Key: 'big/blob.bin', Body: Readable.from(body()) },
    }).done();
    const expected = hash.digest('hex');
    const copied = await eventually(
      'the copy',
      async () => {
        const res = await s3.send(new ListObjectsV2Command({ Bucket: output, Prefix: 'copy/big/blob.bin' }));
        return res.Contents?.[0];
      },
      120_000,
    );
    expect(copied.Size).toBe(size);
    const got = await s3.send(new GetObjectCommand({ Bucket: output, Key: 'copy/big/blob.bin' }));
    const check = createHash('sha256');
    for await (const c of got.Body as Readable) check.update(c as Buffer);
    expect(check.digest('hex')).toBe(expected);
    const peak = await platform.peakRssMb();
    console.log(`platform peak RSS after moving 100 MB: ${peak.toFixed(1)} MB`);
    expect(peak).toBeLessThan(250);
  }, 180_000);

  it('fails each broken invocation with its own error kind, and the next one succeeds', async () => {
    const kinds: Record<string, string> = {};
    for (const mode of ['throw', 'exit', 'loop', 'oom']) {
      const bad = await fetch(`${platform.url}/functions/broken/invoke`, {
        method: 'POST',
        body: JSON.stringify({ mode }),
      });
      const body = (await bad.json()) as { error: { kind: string; message: string } };
      expect(bad.status, JSON.stringify(body)).toBeGreaterThanOrEqual(500);
      kinds[mode] = body.error.kind;
      const good = await fetch(`${platform.url}/functions/broken/invoke`, {
        method: 'POST',
        body: JSON.stringify({ mode: 'fixed' }),
      });
      expect(good.status).toBe(200);
      expect(await good.json()).toEqual({ fine: true, mode: 'fixed' });
    }
    expect(kinds).toEqual({ throw: 'handler', exit: 'exit', loop: 'timeout', oom: 'oom' });
  }, 120_000);

  it('refuses storage outside the grants and has no network to reach Redis or MinIO', async () => {
    const res = await fetch(`${platform.url}/functions/probe/invoke`, {
      method: 'POST',
      body: JSON.stringify({ forbiddenBucket: other }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      redis: string;
      minio: string;
      forbiddenWrite: { name: string; message: string };
    };
    expect(body.redis).not.toBe('connected');
    expect(body.minio).not.toBe('connected');
    expect(body.forbiddenWrite.name).toBe('PermissionError');
    expect(body.forbiddenWrite.message).toContain(other);
    // Uncaught, the same refusal fails the invocation with kind `permission`.
    const escalated = await fetch(`${platform.url}/functions/probe/invoke`, {
      method: 'POST',
      body: JSON.stringify({ forbiddenBucket: other, escalate: true }),
    });
    expect(escalated.status).toBe(502);
    expect(((await escalated.json()) as { error: { kind: string } }).error.kind).toBe('permission');
    expect(await listKeys(s3, other)).toEqual([]);
  }, 60_000);
});
