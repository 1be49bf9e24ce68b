/**
 * The S3 event a handler receives, on the running platform, for uploads learned of through
 * MinIO's listen API and through catch-up listings (the webhook target, which needs port 8080,
 * is covered by bucket-e2e): every field AWS sends, the key encoded as S3 encodes it.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeS3Key } from '../../src/queue/s3-event.js';
import { dropBucket, listKeys } from '../helpers/s3.js';
import { eventually, startPlatformProcess } from '../helpers/platform.js';
import { config, requireDocker, requireMinio, requireRedis, uniqueName } from '../helpers/services.js';

const KEYS = ['in/a b+c 100%.csv', 'in/données/été ☃.csv', 'in/q?a&b=c.csv', 'in/deep/dir/file.csv'];

describe.each(['listen', 'poll'])('S3 events delivered by %s', (mode) => {
  let s3: S3Client;
  const input = uniqueName(`s3ev-${mode}-in`);
  const output = uniqueName(`s3ev-${mode}-out`);

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

  it('gives the handler the record AWS would send, the key encoded as S3 encodes it', async () => {
    const p = await startPlatformProcess(
      `version: 1
functions:
  s3-record:
    handler: s3-record/index.handler
    retry: { attempts: 1 }
    env: { OUT_BUCKET: ${output} }
    storage: { read: [${input}], write: [${output}] }
    triggers:
      - bucket: ${input}
        prefix: in/
        suffix: .csv
`,
      ['s3-record'],
      { FAAS_BUCKET_EVENTS: mode, FAAS_HOST: '127.0.0.1' },
    );
    try {
      for (const Key of KEYS)
        await s3.send(new PutObjectCommand({ Bucket: input, Key, Body: `body of ${Key}` }));
      await eventually(
        'a record per upload',
        async () => ((await listKeys(s3, output, 'records/')).length >= KEYS.length ? true : undefined),
        60_000,
      );
      for (const key of KEYS) {
        const res = await s3.send(new GetObjectCommand({ Bucket: output, Key: `records/${key}.json` }));
        const record = JSON.parse(
          await (res.Body as { transformToString(): Promise<string> }).transformToString(),
        );
        expect(record).toEqual({
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: config.S3_REGION,
          eventTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          eventName: 'ObjectCreated:Put',
          userIdentity: { principalId: expect.any(String) },
          requestParameters: { sourceIPAddress: expect.any(String) },
          responseElements: { 'x-amz-request-id': expect.any(String), 'x-amz-id-2': expect.any(String) },
          s3: {
            s3SchemaVersion: '1.0',
            configurationId: expect.any(String),
            bucket: {
              name: input,
              ownerIdentity: { principalId: expect.any(String) },
              arn: `arn:aws:s3:::${input}`,
            },
            object: {
              key: encodeS3Key(key),
              size: Buffer.byteLength(`body of ${key}`),
              eTag: expect.stringMatching(/^[0-9a-f]{32}$/),
              sequencer: expect.stringMatching(/^[0-9A-F]+$/),
            },
          },
        });
        expect(record.s3.object.key).not.toContain(' ');
      }
    } finally {
      expect(await p.stop()).toBe(0);
    }
  }, 120_000);
});
