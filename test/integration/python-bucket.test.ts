/**
 * A Python bucket handler written for AWS (`boto3.client('s3')` with no arguments, the key
 * decoded with `unquote_plus`) runs unchanged: MinIO's notification reaches `faas up`, the
 * handler reads the upload, writes a copy with metadata, lists and heads it through the S3
 * endpoint on its container's loopback, and is refused outside its grants, for keys with
 * spaces, `+`, `%` and unicode.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropBucket } from '../helpers/s3.js';
import {
  bucketEventsEnv,
  eventually,
  startPlatformProcess,
  type RunningPlatform,
} from '../helpers/platform.js';
import { requireDocker, requireMinio, requireRedis, uniqueName } from '../helpers/services.js';

const KEYS = ['in/plain.txt', 'in/a b+c.txt', 'in/100% sure.txt', 'in/données ü ✓ 日本.txt'];
const body = (key: string) => `contents of ${key}: ünïcödé ✓ ${'x'.repeat(50)}`;

async function read(s3: S3Client, Bucket: string, Key: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket, Key }));
  return Buffer.from(
    await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

describe('a Python bucket handler using boto3', () => {
  let s3: S3Client;
  let p: RunningPlatform;
  const bucket = uniqueName('pyin');

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    s3 = await requireMinio();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    p = await startPlatformProcess(
      `version: 1
functions:
  py-s3-copy:
    handler: py-s3/app.handler
    runtime: python3.11
    storage:
      read: [${bucket}/in/, ${bucket}/copies/]
      write: [${bucket}/copies/, ${bucket}/results/]
    triggers:
      - bucket: ${bucket}
        prefix: in/
`,
      ['py-s3'],
      { ...(await bucketEventsEnv()), FAAS_PREWARM: '1' },
    );
  }, 300_000);

  afterAll(async () => {
    expect(await p?.stop()).toBe(0);
    await dropBucket(s3, bucket);
    s3?.destroy();
  });

  it('reads, writes, lists and heads objects within its grants and is refused outside them', async () => {
    const since = Date.now();
    for (const Key of KEYS) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: body(Key) }));
    for (const key of KEYS) {
      const summary = await eventually(`the result for ${key}`, async () =>
        JSON.parse((await read(s3, bucket, `results/${key}.json`)).toString()),
      );
      expect(summary).toMatchObject({
        key,
        out: `copies/${key}`,
        bytes: Buffer.byteLength(body(key)),
        denied: 'AccessDenied',
      });
      expect(summary.listed).toContain(`copies/${key}`);
      expect((await read(s3, bucket, `copies/${key}`)).toString()).toBe(body(key));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `copies/${key}` }));
      expect(head.ContentType).toBe('text/plain');
      expect(head.Metadata).toEqual({ 'source-sha': createHash('sha256').update(body(key)).digest('hex') });
      expect(summary.meta).toEqual(head.Metadata);
    }
    const res = await fetch(`${p.url}/functions/py-s3-copy/invocations`);
    // The function's index outlives a test run (it is kept for the records' TTL): this run's only.
    const listed = ((await res.json()) as Array<{ status: string; finishedAt: number }>).filter(
      (i) => i.finishedAt >= since,
    );
    expect(listed.map((i) => i.status)).toEqual(KEYS.map(() => 'succeeded'));
  }, 120_000);
});
