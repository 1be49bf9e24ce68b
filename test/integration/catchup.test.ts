/**
 * Uploads found by listing: the polling mode (no notifications at all), and the catch-up running
 * beside MinIO's notifications, where every upload is seen twice and must still run once.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { dropBucket, listKeys } from '../helpers/s3.js';
import { bucketEventsEnv, eventually, startPlatformProcess } from '../helpers/platform.js';
import { requireDocker, requireMinio, requireRedis, uniqueName } from '../helpers/services.js';

const manifest = (input: string, output: string) => `version: 1
functions:
  copy-key:
    handler: copy-key/index.handler
    scale: { max: 4 }
    env: { OUT_BUCKET: ${output} }
    storage: { write: [${output}] }
    triggers:
      - bucket: ${input}
        prefix: in/
`;

/**
 * Runs `body` against a platform with the copy-key function on a fresh input bucket (under `in/`)
 * writing to a fresh output bucket, with the platform's bucket events set by `env`; stops the
 * platform and drops both buckets after.
 */
async function withCopyKey(
  env: () => Promise<Record<string, string>>,
  body: (s3: S3Client, input: string, output: string) => Promise<void>,
): Promise<void> {
  (await requireRedis()).disconnect();
  await requireDocker();
  const s3 = await requireMinio();
  const input = uniqueName('catchin');
  const output = uniqueName('catchout');
  for (const Bucket of [input, output]) await s3.send(new CreateBucketCommand({ Bucket }));
  const p = await startPlatformProcess(manifest(input, output), ['copy-key'], await env());
  try {
    await body(s3, input, output);
  } finally {
    expect(await p.stop()).toBe(0);
    await dropBucket(s3, input);
    await dropBucket(s3, output);
    s3.destroy();
  }
}

const POLL = { FAAS_BUCKET_EVENTS: 'poll', FAAS_CATCHUP_INTERVAL: '500ms' };

describe.each([
  ['poll mode: no notifications, every upload found by listing', 'poll'],
  ['webhook mode with catch-up: each upload announced and listed, run once', 'webhook'],
])('%s', (_name, mode) => {
  it('runs the function exactly once per upload', async () => {
    await withCopyKey(
      async () => (mode === 'poll' ? POLL : { ...(await bucketEventsEnv()), FAAS_CATCHUP_INTERVAL: '500ms' }),
      async (s3, input, output) => {
        const uploads = Array.from({ length: 60 }, (_, i) => `in/${i % 3 === 0 ? 'a b+c ' : ''}${i}.txt`);
        for (let i = 0; i < uploads.length; i += 10) {
          await Promise.all(
            uploads
              .slice(i, i + 10)
              .map((Key) => s3.send(new PutObjectCommand({ Bucket: input, Key, Body: Key }))),
          );
        }
        const outs = await eventually('every output', async () => {
          const k = await listKeys(s3, output, 'out/');
          return k.length >= uploads.length ? k : undefined;
        });
        expect(outs.sort()).toEqual(uploads.map((k) => `out/${k}`).sort());
        // Two more catch-up rounds see the same objects again: still one run each.
        await new Promise((r) => setTimeout(r, 1500));
        expect(await listKeys(s3, output, 'runs/')).toHaveLength(uploads.length);
      },
    );
  }, 120_000);
});

describe('poll mode: the event names a listing gives', () => {
  it('a multipart upload arrives as CompleteMultipartUpload, a put as Put', async () => {
    await withCopyKey(
      async () => POLL,
      async (s3, input, output) => {
        await s3.send(new PutObjectCommand({ Bucket: input, Key: 'in/put.txt', Body: 'put' }));
        const Key = 'in/multi part.bin';
        const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: input, Key }));
        const parts = [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.from('tail')];
        const done = [];
        for (const [i, Body] of parts.entries()) {
          const { ETag } = await s3.send(
            new UploadPartCommand({ Bucket: input, Key, UploadId, PartNumber: i + 1, Body }),
          );
          done.push({ ETag, PartNumber: i + 1 });
        }
        await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: input,
            Key,
            UploadId,
            MultipartUpload: { Parts: done },
          }),
        );
        await eventually('both outputs', async () =>
          (await listKeys(s3, output, 'out/')).length >= 2 ? true : undefined,
        );
        const eventOf = async (key: string) => {
          const res = await s3.send(new GetObjectCommand({ Bucket: output, Key: `out/${key}` }));
          return JSON.parse(
            await (res.Body as { transformToString(): Promise<string> }).transformToString(),
          ) as {
            eventName: string;
            size: number;
          };
        };
        expect(await eventOf('in/put.txt')).toMatchObject({ eventName: 'ObjectCreated:Put', size: 3 });
        expect(await eventOf(Key)).toMatchObject({
          eventName: 'ObjectCreated:CompleteMultipartUpload',
          size: 5 * 1024 * 1024 + 4,
        });
      },
    );
  }, 120_000);
});
