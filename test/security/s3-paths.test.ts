/**
 * Keys that try to leave a prefix grant, sent with the AWS SDK through the S3 endpoint inside the
 * container (a real `faas up`): the host decodes each key once and refuses the ones that climb,
 * start at the root, hide separators or dots in percent-escapes, or carry control characters,
 * with S3's AccessDenied. The bucket must hold nothing new outside `out/`.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformProcess, type RunningPlatform } from '../helpers/platform.js';
import { dropBucket, listKeys } from '../helpers/s3.js';
import { requireDocker, requireMinio, requireRedis, uniqueName } from '../helpers/services.js';

const bucket = uniqueName('s3paths');

const ALLOWED = [
  { action: 'put', key: 'out/ok.txt', body: 'fine' },
  { action: 'get', key: 'in/data.txt' },
  { action: 'list', prefix: 'in/' },
];
const REFUSED = [
  { action: 'get', key: 'in/../secret' },
  { action: 'get', key: 'in/./../secret' },
  { action: 'get', key: 'in/..%2Fsecret' },
  { action: 'get', key: 'in/%2e%2e/secret' },
  { action: 'get', key: '/in/data.txt' },
  { action: 'get', key: 'in/data.txt\u0000' },
  { action: 'get', key: 'in\\..\\secret' },
  { action: 'get', key: 'secret' },
  { action: 'get', key: 'out/ok.txt' },
  { action: 'put', key: 'out/../secret', body: 'x' },
  { action: 'put', key: 'out/..', body: 'x' },
  { action: 'put', key: '/out/x', body: 'x' },
  { action: 'put', key: 'out/%2e%2e/x', body: 'x' },
  { action: 'put', key: 'out%2Fx', body: 'x' },
  { action: 'put', key: 'out/.%2e/x', body: 'x' },
  { action: 'put', key: 'out/x\nsecret', body: 'x' },
  { action: 'put', key: 'in/new.txt', body: 'x' },
  { action: 'put', key: 'out-private/x', body: 'x' },
  { action: 'remove', key: 'out/../secret' },
  { action: 'remove', key: 'in/data.txt' },
  { action: 'list', prefix: '' },
  { action: 'list', prefix: 'in/../' },
  { action: 'list', prefix: 'out/' },
  { action: 'copy', from: 'secret', to: 'out/copy.txt' },
  { action: 'copy', from: 'in/../secret', to: 'out/copy.txt' },
];

describe('S3 keys outside the grants, through the in-container endpoint', () => {
  let s3: S3Client;
  let platform: RunningPlatform;
  let outcomes: string[] = [];

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    s3 = await requireMinio();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret', Body: 'top secret' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/data.txt', Body: 'input data' }));
    platform = await startPlatformProcess(
      `version: 1
functions:
  s3-sdk:
    handler: s3-sdk/index.handler
    retry: { attempts: 1 }
    storage: { read: [${bucket}/in/], write: [${bucket}/out/] }
`,
      ['s3-sdk'],
    );
    const res = await fetch(`${platform.url}/functions/s3-sdk/invoke`, {
      method: 'POST',
      body: JSON.stringify({
        action: 'outside',
        calls: [...ALLOWED, ...REFUSED].map((c) => ({ bucket, ...c })),
      }),
    });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    outcomes = JSON.parse(text) as string[];
  }, 120_000);

  afterAll(async () => {
    const code = await platform?.stop();
    expect(code).toBe(0);
    if (s3) await dropBucket(s3, bucket);
  }, 60_000);

  it('allows the calls inside the grants', () => {
    expect(outcomes.slice(0, ALLOWED.length)).toEqual(['allowed', 'allowed', 'allowed']);
  });

  it.each(REFUSED.map((c, i) => [JSON.stringify(c), i] as const))('refuses %s', (_name, i) => {
    expect(outcomes[ALLOWED.length + i]).toBe('AccessDenied 403');
  });

  it('wrote nothing but out/ok.txt, and left the secret as it was', async () => {
    expect((await listKeys(s3, bucket)).sort()).toEqual(['in/data.txt', 'out/ok.txt', 'secret']);
    const secret = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'secret' }));
    expect(await secret.Body?.transformToString()).toBe('top secret');
  });
});
