/**
 * A TypeScript `S3Handler` written as AWS's tutorials write it runs unchanged on real uploads:
 * bundled from TypeScript, its key decoded the AWS way, S3 reached through the AWS SDK with no
 * configuration. Keys carry spaces, `+`, `%`, unicode and `?&=`; outputs are checked byte for byte.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropBucket, listKeys } from '../helpers/s3.js';
import { eventually, startPlatformProcess } from '../helpers/platform.js';
import { requireDocker, requireMinio, requireRedis, uniqueName } from '../helpers/services.js';

const KEYS = ['in/a b+c 100%.txt', 'in/données/été ☃.txt', 'in/q?a&b=c.txt', 'in/plain.txt'];
const body = (key: string) => `Contents of ${key}: ünïcödé ✓ and a tail`;

describe('a TypeScript S3Handler', () => {
  let s3: S3Client;
  const input = uniqueName('ts-in');
  const output = uniqueName('ts-out');

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    s3 = await requireMinio();
    for (const Bucket of [input, output]) await s3.send(new CreateBucketCommand({ Bucket }));
  });

  afterAll(async () => {
    for (const b of [input, output]) await dropBucket(s3, b);
    s3?.destroy();
  });

  it('runs unchanged on uploads and writes through the AWS SDK', async () => {
    const p = await startPlatformProcess(
      `version: 1
functions:
  ts-s3-handler:
    handler: ts-s3-handler/index.handler
    retry: { attempts: 1 }
    env: { OUT_BUCKET: ${output} }
    storage: { read: [${input}/in/], write: [${output}/upper/] }
    triggers:
      - bucket: ${input}
        prefix: in/
`,
      ['ts-s3-handler'],
      { FAAS_BUCKET_EVENTS: 'poll' },
    );
    try {
      for (const Key of KEYS) await s3.send(new PutObjectCommand({ Bucket: input, Key, Body: body(Key) }));
      const written = await eventually(
        'one output per upload',
        async () => {
          const keys = await listKeys(s3, output, 'upper/');
          return keys.length >= KEYS.length ? keys : undefined;
        },
        60_000,
      );
      expect(written.sort()).toEqual(KEYS.map((k) => `upper/${k}`).sort());
      for (const key of KEYS) {
        const res = await s3.send(new GetObjectCommand({ Bucket: output, Key: `upper/${key}` }));
        const bytes = Buffer.from(
          await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
        );
        expect(bytes.equals(Buffer.from(body(key).toUpperCase())), key).toBe(true);
      }
    } finally {
      expect(await p.stop()).toBe(0);
    }
  }, 120_000);
});
