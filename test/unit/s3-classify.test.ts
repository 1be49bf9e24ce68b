import { describe, expect, it } from 'vitest';
import { classify, type S3Call } from '../../src/storage/s3-proxy/classify.js';

type Row = [
  string,
  [method: string, path: string, query: string, headers?: Record<string, string>],
  Partial<S3Call>,
];

describe('classify: which S3 call a request is', () => {
  const calls: Row[] = [
    [
      'GetObject',
      ['GET', '/bk1/in/a.txt', 'x-id=GetObject'],
      { op: 'GetObject', bucket: 'bk1', key: 'in/a.txt', access: 'read' },
    ],
    [
      'GetObject with Range (a header)',
      ['GET', '/bk1/k', '', { range: 'bytes=0-9' }],
      { op: 'GetObject', access: 'read' },
    ],
    ['HeadObject', ['HEAD', '/bk1/k', ''], { op: 'HeadObject', access: 'read' }],
    [
      'PutObject',
      ['PUT', '/bk1/out/x', 'x-id=PutObject'],
      { op: 'PutObject', key: 'out/x', access: 'write' },
    ],
    ['DeleteObject', ['DELETE', '/bk1/out/x', 'x-id=DeleteObject'], { op: 'DeleteObject', access: 'write' }],
    [
      'a key with spaces, +, %, unicode and query characters, decoded once',
      ['GET', '/bk1/in/a%20b%2Bc%25d%20%C3%BC%3Fx%3D1%26y', ''],
      { key: 'in/a b+c%d ü?x=1&y' },
    ],
    ['a double-encoded key stays encoded once', ['GET', '/bk1/in/a%252Fb', ''], { key: 'in/a%2Fb' }],
    [
      'ListObjectsV2 with a prefix',
      ['GET', '/bk1', 'list-type=2&prefix=in%2Fsub%2F&delimiter=%2F'],
      {
        op: 'ListObjectsV2',
        key: 'in/sub/',
        access: 'list',
        params: [
          ['list-type', '2'],
          ['prefix', 'in/sub/'],
          ['delimiter', '/'],
        ],
      },
    ],
    ['ListObjectsV2 on a trailing slash', ['GET', '/bk1/', 'list-type=2'], { op: 'ListObjectsV2', key: '' }],
    ['ListObjects (v1)', ['GET', '/bk1', 'prefix=in%2F&marker=in%2Fa'], { op: 'ListObjects', key: 'in/' }],
    ['HeadBucket', ['HEAD', '/bk1', ''], { op: 'HeadBucket', access: 'list' }],
    [
      'CopyObject, source encoded with encodeURIComponent',
      ['PUT', '/bk1/out/c', 'x-id=CopyObject', { 'x-amz-copy-source': 'bk2%2Fin%2Fa%20%C3%BC%2B.txt' }],
      { op: 'CopyObject', access: 'write', copySource: { bucket: 'bk2', key: 'in/a ü+.txt' } },
    ],
    [
      'CopyObject, source with a leading slash and a version',
      ['PUT', '/bk1/out/c', '', { 'x-amz-copy-source': '/bk2/in/a%3Fb?versionId=v%2B1' }],
      { op: 'CopyObject', copySource: { bucket: 'bk2', key: 'in/a?b', versionId: 'v+1' } },
    ],
    [
      'CreateMultipartUpload',
      ['POST', '/bk1/big/x', 'uploads'],
      { op: 'CreateMultipartUpload', access: 'write' },
    ],
    ['UploadPart', ['PUT', '/bk1/big/x', 'partNumber=1&uploadId=u1'], { op: 'UploadPart', access: 'write' }],
    [
      'UploadPartCopy',
      ['PUT', '/bk1/big/x', 'partNumber=1&uploadId=u1', { 'x-amz-copy-source': 'bk1/in/a' }],
      { op: 'UploadPartCopy', copySource: { bucket: 'bk1', key: 'in/a' } },
    ],
    ['CompleteMultipartUpload', ['POST', '/bk1/big/x', 'uploadId=u1'], { op: 'CompleteMultipartUpload' }],
    ['AbortMultipartUpload', ['DELETE', '/bk1/big/x', 'uploadId=u1'], { op: 'AbortMultipartUpload' }],
    ['ListParts', ['GET', '/bk1/big/x', 'uploadId=u1&max-parts=10'], { op: 'ListParts', access: 'write' }],
    [
      'a presigned GET: its parameters dropped, its expiry kept',
      [
        'GET',
        '/bk1/in/a',
        'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=K%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-Signature=ab&X-Amz-SignedHeaders=host&x-amz-checksum-mode=ENABLED&x-id=GetObject',
      ],
      { op: 'GetObject', params: [['x-id', 'GetObject']], expiresAt: Date.UTC(2026, 0, 1) + 60_000 },
    ],
    [
      'a presigned URL with a malformed date has already expired',
      ['GET', '/bk1/in/a', 'X-Amz-Date=yesterday&X-Amz-Expires=60'],
      { op: 'GetObject', expiresAt: 0 },
    ],
    [
      'virtual-host style: the bucket in the Host header',
      ['GET', '/in/a%20b', '', { host: 'bk1.localhost:4566' }],
      { op: 'GetObject', bucket: 'bk1', key: 'in/a b' },
    ],
    [
      'virtual-host style on the loopback address',
      ['GET', '/', 'list-type=2', { host: 'bk1.127.0.0.1:4566' }],
      { op: 'ListObjectsV2', bucket: 'bk1', key: '' },
    ],
    [
      'path style at 127.0.0.1 itself',
      ['GET', '/bk1/k', '', { host: '127.0.0.1:4566' }],
      { bucket: 'bk1', key: 'k' },
    ],
  ];
  it.each(calls)('%s', (_name, [method, path, query, headers], expected) => {
    const c = classify(method, path, query, headers ?? {});
    expect(c.ok, JSON.stringify(c)).toBe(true);
    if (c.ok) expect(c.call).toMatchObject(expected);
  });

  const refused: Array<[string, [string, string, string, Record<string, string>?], number, string, RegExp]> =
    [
      ['ListBuckets', ['GET', '/', ''], 403, 'AccessDenied', /ListBuckets is not available/],
      ['CreateBucket', ['PUT', '/bk1', ''], 403, 'AccessDenied', /creating, deleting or configuring buckets/],
      ['DeleteBucket', ['DELETE', '/bk1', ''], 403, 'AccessDenied', /creating, deleting/],
      ['DeleteObjects (a batch)', ['POST', '/bk1', 'delete'], 403, 'AccessDenied', /\?delete subresource/],
      ['a bucket policy', ['PUT', '/bk1', 'policy'], 403, 'AccessDenied', /\?policy subresource/],
      ['an object ACL', ['PUT', '/bk1/k', 'acl'], 403, 'AccessDenied', /\?acl subresource/],
      ['object tagging', ['GET', '/bk1/k', 'tagging'], 403, 'AccessDenied', /\?tagging subresource/],
      ['ListMultipartUploads', ['GET', '/bk1', 'uploads'], 403, 'AccessDenied', /creating, deleting/],
      [
        'ListObjects with an unknown list-type',
        ['GET', '/bk1', 'list-type=3'],
        403,
        'AccessDenied',
        /list-type=3/,
      ],
      [
        'UploadPart without an uploadId',
        ['PUT', '/bk1/k', 'partNumber=1'],
        403,
        'AccessDenied',
        /not available/,
      ],
      ['POST without a multipart subresource', ['POST', '/bk1/k', ''], 403, 'AccessDenied', /not available/],
      [
        'malformed percent-encoding in the key',
        ['GET', '/bk1/a%zz', ''],
        400,
        'InvalidURI',
        /percent-encoding/,
      ],
      ['malformed percent-encoding in the query', ['GET', '/bk1', 'prefix=%e0'], 400, 'InvalidURI', /query/],
      ['a bucket name S3 would refuse', ['GET', '/B_1/k', ''], 400, 'InvalidBucketName', /not a bucket name/],
      [
        'an encoded slash in the bucket',
        ['GET', '/bk1%2Fx/k', ''],
        400,
        'InvalidBucketName',
        /not a bucket name/,
      ],
      [
        'a copy source without a key',
        ['PUT', '/bk1/k', '', { 'x-amz-copy-source': 'bk2' }],
        400,
        'InvalidArgument',
        /x-amz-copy-source/,
      ],
      [
        'a copy source that is an access point ARN',
        ['PUT', '/bk1/k', '', { 'x-amz-copy-source': 'arn:aws:s3:us-east-1:1:accesspoint/ap/object/k' }],
        400,
        'InvalidArgument',
        /x-amz-copy-source/,
      ],
    ];
  it.each(refused)('refuses %s', (_name, [method, path, query, headers], status, code, message) => {
    const c = classify(method, path, query, headers ?? {});
    expect(c).toMatchObject({ ok: false, status, code });
    if (!c.ok) expect(c.message).toMatch(message);
  });
});
