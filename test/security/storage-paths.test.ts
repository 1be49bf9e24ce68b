/**
 * Storage keys that try to leave a prefix grant: a function granted `read: [bucket/in/]` and
 * `write: [bucket/out/]` sends keys that climb, start at the root, hide separators or dots in
 * percent-escapes, or carry control characters. Each must be refused with a PermissionError that
 * names the reason, and the bucket must hold nothing new outside `out/`.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformProcess, type RunningPlatform } from '../helpers/platform.js';
import { requireDocker, requireMinio, requireRedis, uniqueName } from '../helpers/services.js';

const bucket = uniqueName('paths');
const SECRET = 'top secret, outside every grant';
const INPUT = 'input data';

type Op = 'get' | 'put' | 'delete' | 'list';
interface Call {
  op: Op;
  key: string;
  bucket?: string;
  /** The reason the refusal must name; undefined for calls that must succeed. */
  refused?: RegExp;
}

const DOT = /dot segment in key/;
const ENCODED = /encoded separator in key|dot segment in key/;
const ABSOLUTE = /absolute key/;
const CONTROL = /control character or backslash in key/;
const NOT_GRANTED = /is not allowed: grant it under storage\.(read|write) in the manifest/;

/** Positive controls first: a write inside the grant, a read inside the grant. */
const ALLOWED: Call[] = [
  { op: 'put', key: 'out/ok.txt' },
  { op: 'get', key: 'in/data.txt' },
  { op: 'list', key: 'in/' },
  { op: 'list', key: '' },
];

const REFUSED: Call[] = [
  // Climbing out of the read grant.
  { op: 'get', key: 'in/../secret', refused: DOT },
  { op: 'get', key: 'in/./../secret', refused: DOT },
  { op: 'get', key: 'in/..%2Fsecret', refused: ENCODED },
  { op: 'get', key: 'in/%2e%2e/secret', refused: ENCODED },
  { op: 'get', key: 'in/%2E%2e%2fsecret', refused: ENCODED },
  { op: 'get', key: '/in/data.txt', refused: ABSOLUTE },
  { op: 'get', key: `/${bucket}/secret`, refused: ABSOLUTE },
  { op: 'get', key: 'in/data.txt\u0000', refused: CONTROL },
  { op: 'get', key: 'in\\..\\secret', refused: CONTROL },
  { op: 'get', key: 'secret', refused: NOT_GRANTED },
  { op: 'get', key: 'out/ok.txt', refused: NOT_GRANTED },
  // Climbing out of the write grant.
  { op: 'put', key: 'out/../../x', refused: DOT },
  { op: 'put', key: 'out/../secret', refused: DOT },
  { op: 'put', key: 'out/..', refused: DOT },
  { op: 'put', key: 'out/./x', refused: DOT },
  { op: 'put', key: '/out/x', refused: ABSOLUTE },
  { op: 'put', key: `/${bucket}/out/x`, refused: ABSOLUTE },
  { op: 'put', key: 'out/%2e%2e/x', refused: ENCODED },
  { op: 'put', key: 'out/%2e%2e%2f%2e%2e%2fsecret', refused: ENCODED },
  { op: 'put', key: 'out%2Fx', refused: ENCODED },
  { op: 'put', key: 'out/..%5csecret', refused: ENCODED },
  // Half-encoded dot segments: one decoding away from `out/../x`, like `%2e%2e`.
  { op: 'put', key: 'out/.%2e/x', refused: ENCODED },
  { op: 'put', key: 'out/%2e./x', refused: ENCODED },
  { op: 'put', key: 'out/x\u0000/../../secret', refused: CONTROL },
  { op: 'put', key: 'out/\u0000', refused: CONTROL },
  { op: 'put', key: 'out/x\nsecret', refused: CONTROL },
  { op: 'put', key: 'out/..\\secret', refused: CONTROL },
  { op: 'put', key: 'in/new.txt', refused: NOT_GRANTED },
  { op: 'put', key: 'out-private/x', refused: NOT_GRANTED },
  { op: 'put', key: 'secret', refused: NOT_GRANTED },
  { op: 'put', key: 'x', bucket: `${bucket}/out`, refused: NOT_GRANTED },
  { op: 'put', key: 'out/x', bucket: `${bucket}/..`, refused: NOT_GRANTED },
  { op: 'put', key: 'out/x', bucket: '', refused: NOT_GRANTED },
  // Deleting and listing outside the grants.
  { op: 'delete', key: 'out/../secret', refused: DOT },
  { op: 'delete', key: 'secret', refused: NOT_GRANTED },
  { op: 'delete', key: 'in/data.txt', refused: NOT_GRANTED },
  { op: 'list', key: 'out/', refused: NOT_GRANTED },
  { op: 'list', key: '../', refused: /dot segment in key|is not allowed/ },
];

interface Outcome {
  op: Op;
  key: string;
  ok: boolean;
  value?: unknown;
  name?: string;
  message?: string;
}

async function keysOf(s3: S3Client): Promise<string[]> {
  const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (res.Contents ?? []).map((o) => o.Key as string).sort();
}

async function body(s3: S3Client, Key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
  return (res.Body as { transformToString(): Promise<string> }).transformToString();
}

const show = (c: Call) =>
  `${c.op} ${JSON.stringify(c.key)}${c.bucket === undefined ? '' : ` in ${JSON.stringify(c.bucket)}`}`;

describe('storage keys outside the grants', () => {
  let s3: S3Client;
  let platform: RunningPlatform;
  let outcomes: Outcome[] = [];
  const calls = [...ALLOWED, ...REFUSED];

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    s3 = await requireMinio();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret', Body: SECRET }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/data.txt', Body: INPUT }));
    platform = await startPlatformProcess(
      `version: 1
functions:
  storage-paths:
    handler: storage-paths/index.handler
    retry: { attempts: 1 }
    storage: { read: [${bucket}/in/], write: [${bucket}/out/] }
`,
      ['storage-paths'],
    );
    const res = await fetch(`${platform.url}/functions/storage-paths/invoke`, {
      method: 'POST',
      body: JSON.stringify({
        calls: calls.map((c) => ({ op: c.op, key: c.key, bucket: c.bucket ?? bucket })),
      }),
    });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    outcomes = JSON.parse(text) as Outcome[];
  }, 120_000);

  afterAll(async () => {
    const code = await platform?.stop();
    expect(code).toBe(0);
    if (s3) {
      const keys = await keysOf(s3).catch(() => []);
      if (keys.length)
        await s3.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
        );
      await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
      s3.destroy();
    }
  }, 60_000);

  it('answers every call, in order', () => {
    expect(outcomes.map((o) => `${o.op} ${o.key}`)).toEqual(calls.map((c) => `${c.op} ${c.key}`));
  });

  it('allows what the grants allow, and lists only inside them', () => {
    const [put, get, listIn, listAll] = outcomes;
    expect(put, JSON.stringify(put)).toMatchObject({ ok: true });
    expect(get).toMatchObject({ ok: true, value: INPUT });
    expect(listIn).toMatchObject({ ok: true, value: ['in/data.txt'] });
    // Listing the whole bucket lists only the granted prefix.
    expect(listAll).toMatchObject({ ok: true, value: ['in/data.txt'] });
  });

  it.each(REFUSED.map((c, i) => [show(c), c, i + ALLOWED.length] as const))(
    'refuses %s with a PermissionError naming why',
    (_name, call, index) => {
      const o = outcomes[index] as Outcome;
      expect(o.ok, JSON.stringify(o)).toBe(false);
      expect(o.name).toBe('PermissionError');
      expect(o.message).toMatch(call.refused as RegExp);
    },
  );

  it('lists nothing outside the read grant through a climbing prefix', async () => {
    const res = await fetch(`${platform.url}/functions/storage-paths/invoke`, {
      method: 'POST',
      body: JSON.stringify({ calls: [{ op: 'list', bucket, key: 'in/../' }] }),
    });
    const [o] = (await res.json()) as Outcome[];
    // Refused, or answered literally (no key starts with `in/../`): never the secret.
    if (o?.ok) expect(o.value).toEqual([]);
    else expect(o).toMatchObject({ ok: false, name: 'PermissionError' });
  });

  it('wrote nothing outside out/, and only the allowed key inside it', async () => {
    const keys = await keysOf(s3);
    expect(keys.filter((k) => !k.startsWith('out/'))).toEqual(['in/data.txt', 'secret']);
    expect(keys.filter((k) => k.startsWith('out/'))).toEqual(['out/ok.txt']);
    expect(await body(s3, 'secret')).toBe(SECRET);
    expect(await body(s3, 'in/data.txt')).toBe(INPUT);
  });
});
