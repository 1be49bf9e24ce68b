import { describe, expect, it } from 'vitest';
import { authorize, type Grants } from '../../src/storage/s3-proxy/authorize.js';
import { classify, type S3Call } from '../../src/storage/s3-proxy/classify.js';
import { parseS3Header } from '../../src/storage/s3-proxy/header.js';
import { payloadHash } from '../../src/storage/s3-proxy/sign.js';

const grants: Grants = {
  read: [
    { bucket: 'data', prefix: 'in/' },
    { bucket: 'data', prefix: 'out/' },
  ],
  write: [{ bucket: 'data', prefix: 'out/' }],
};
const o = { codeBucket: 'faas-code', now: Date.UTC(2026, 0, 1) };

function call(method: string, path: string, query = '', headers: Record<string, string> = {}): S3Call {
  const c = classify(method, path, query, headers);
  if (!c.ok) throw new Error(c.message);
  return c.call;
}

describe('authorize: what the grants allow', () => {
  const rows: Array<[string, S3Call, RegExp | undefined]> = [
    ['GetObject inside a read grant', call('GET', '/data/in/a'), undefined],
    [
      'GetObject outside every grant',
      call('GET', '/data/secret'),
      /GetObject data\/secret is not allowed: grant it under storage\.read.*granted: data\/in\/, data\/out\//,
    ],
    ['GetObject in another bucket', call('GET', '/other/in/a'), /nothing in bucket other is granted/],
    ['HeadObject inside a read grant', call('HEAD', '/data/out/a'), undefined],
    ['PutObject inside the write grant', call('PUT', '/data/out/a'), undefined],
    [
      'PutObject where only reading is granted',
      call('PUT', '/data/in/a'),
      /PutObject data\/in\/a is not allowed: grant it under storage\.write/,
    ],
    ['DeleteObject outside the write grant', call('DELETE', '/data/in/a'), /storage\.write/],
    ['a key that climbs out of its grant', call('GET', '/data/in/../secret'), /dot segment in key/],
    ['a key with an encoded separator', call('PUT', '/data/out/a%252Fb'), /encoded separator in key/],
    ['the code bucket, even when granted', call('GET', '/faas-code/in/a'), /code bucket is never open/],
    [
      'ListObjectsV2 of a prefix inside a read grant',
      call('GET', '/data', 'list-type=2&prefix=in%2Fsub'),
      undefined,
    ],
    [
      'ListObjectsV2 of the whole bucket (wider than the grants)',
      call('GET', '/data', 'list-type=2'),
      /list with a prefix inside a storage\.read grant/,
    ],
    ['ListObjectsV2 of a prefix above a grant', call('GET', '/data', 'list-type=2&prefix=i'), /not allowed/],
    ['ListObjects (v1) inside a read grant', call('GET', '/data', 'prefix=out%2F'), undefined],
    ['a listing prefix that climbs', call('GET', '/data', 'list-type=2&prefix=in%2F..%2F'), /dot segment/],
    ['listing the code bucket', call('GET', '/faas-code', 'list-type=2'), /code bucket/],
    ['HeadBucket of a granted bucket', call('HEAD', '/data'), undefined],
    ['HeadBucket of another bucket', call('HEAD', '/other'), /nothing in it is granted/],
    [
      'CopyObject: read the source, write the destination',
      call('PUT', '/data/out/c', '', { 'x-amz-copy-source': 'data/in/a' }),
      undefined,
    ],
    [
      'CopyObject from an ungranted source',
      call('PUT', '/data/out/c', '', { 'x-amz-copy-source': 'data/secret' }),
      /CopyObject from data\/secret is not allowed: grant it under storage\.read/,
    ],
    [
      'CopyObject to an ungranted destination',
      call('PUT', '/data/in/c', '', { 'x-amz-copy-source': 'data/in/a' }),
      /CopyObject data\/in\/c is not allowed: grant it under storage\.write/,
    ],
    [
      'CopyObject from the code bucket',
      call('PUT', '/data/out/c', '', { 'x-amz-copy-source': 'faas-code/in/a' }),
      /code bucket/,
    ],
    ['a multipart upload inside the write grant', call('POST', '/data/out/big', 'uploads'), undefined],
    [
      'a multipart upload outside it',
      call('PUT', '/data/in/big', 'partNumber=1&uploadId=u'),
      /UploadPart data\/in\/big is not allowed/,
    ],
    [
      'ListParts needs the write grant',
      call('GET', '/data/in/a', 'uploadId=u'),
      /ListParts data\/in\/a is not allowed: grant it under storage\.write/,
    ],
    [
      'a presigned URL before its expiry',
      call('GET', '/data/in/a', 'X-Amz-Date=20260101T000000Z&X-Amz-Expires=60'),
      undefined,
    ],
    [
      'a presigned URL past its expiry',
      call('GET', '/data/in/a', 'X-Amz-Date=20251231T235800Z&X-Amz-Expires=60'),
      /presigned URL expired at 2025-12-31T23:59:00/,
    ],
  ];
  it.each(rows)('%s', (_name, c, denial) => {
    const got = authorize(c, grants, o);
    if (denial) expect(got).toMatch(denial);
    else expect(got).toBeUndefined();
  });

  it('refuses everything before the container is given a function', () => {
    expect(authorize(call('GET', '/data/in/a'), undefined, o)).toMatch(/not been given a function/);
  });
});

describe('parseS3Header: the container sends untrusted input', () => {
  const good = { t: 's3', method: 'GET', path: '/b/k', query: '', headers: { host: '127.0.0.1:4566' } };
  it('accepts a well-formed header', () => expect(parseS3Header(good)).toEqual(good));
  const bad: Array<[string, unknown, RegExp]> = [
    ['an unknown method', { ...good, method: 'PATCH' }, /method/],
    ['a relative path', { ...good, path: 'b/k' }, /path/],
    ['a path of 5000 characters', { ...good, path: '/' + 'a'.repeat(5000) }, /path/],
    ['a query of 9000 characters', { ...good, query: 'a'.repeat(9000) }, /query/],
    ['an upper-case header name', { ...good, headers: { Host: 'x' } }, /headers/],
    ['a header value that is not a string', { ...good, headers: { host: 1 } }, /headers/],
    ['a header value of 9000 characters', { ...good, headers: { host: 'a'.repeat(9000) } }, /headers/],
    [
      '101 headers',
      { ...good, headers: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`h${i}`, 'v'])) },
      /at most 100 headers/,
    ],
    ['an unknown field', { ...good, extra: 1 }, /\(root\)|extra|Unrecognized/],
    ['another message', { t: 'stream' }, /t/],
  ];
  it.each(bad)('refuses %s', (_name, raw, message) => {
    expect(() => parseS3Header(raw)).toThrow(message);
  });
});

describe('payloadHash: what the host signs the body with', () => {
  const hex = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const rows: Array<[string, string | undefined, string | RegExp]> = [
    ['none sent (a presigned URL)', undefined, 'UNSIGNED-PAYLOAD'],
    ['a whole-body sha256: the store checks the body against it', hex, hex],
    ['unsigned', 'UNSIGNED-PAYLOAD', 'UNSIGNED-PAYLOAD'],
    [
      'unsigned chunks with a trailing checksum',
      'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    ],
    ['chunks signed with the container key', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', /not supported here/],
  ];
  it.each(rows)('%s', (_name, sent, expected) => {
    const got = payloadHash(sent === undefined ? {} : { 'x-amz-content-sha256': sent });
    if (typeof expected === 'string') expect(got).toBe(expected);
    else
      expect(got).toMatchObject({
        status: 400,
        code: 'NotImplemented',
        message: expect.stringMatching(expected),
      });
  });
});
