/**
 * What an S3 request from a container asks for, decided from its method, path, query and
 * headers alone (no I/O), so that grants are checked against exactly what will be forwarded: the
 * host re-encodes the bucket, key and query from the values decided here, never from the
 * container's own encoding.
 */

export type S3Op =
  | 'GetObject'
  | 'HeadObject'
  | 'PutObject'
  | 'CopyObject'
  | 'DeleteObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'ListObjectsV2'
  | 'ListObjects'
  | 'HeadBucket';

/** `read` and `write` name an object; `list` names a bucket and a prefix. */
export type S3Access = 'read' | 'write' | 'list';

export interface ObjectRef {
  bucket: string;
  key: string;
  versionId?: string;
}

/** One classified S3 call. */
export interface S3Call {
  op: S3Op;
  bucket: string;
  /** The object's key, decoded; for a listing its prefix; empty for HeadBucket. */
  key: string;
  access: S3Access;
  /** CopyObject and UploadPartCopy: the object read (from `x-amz-copy-source`, decoded). */
  copySource?: ObjectRef;
  /** The query to forward, decoded, without the parameters of a presigned URL. */
  params: [string, string][];
  /** A presigned URL's expiry (epoch ms), when the request carried one. */
  expiresAt?: number;
}

/** A request refused before grants are looked at, with S3's error code and HTTP status. */
export interface S3Refusal {
  status: number;
  code: string;
  message: string;
}

export type Classified = { ok: true; call: S3Call } | ({ ok: false } & S3Refusal);

/** Query parameters that shape a supported call; any other one names an operation we do not serve. */
const KNOWN_PARAMS = new Set([
  'x-id',
  'versionId',
  'partNumber',
  'uploadId',
  'uploads',
  'max-parts',
  'part-number-marker',
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'fetch-owner',
  'encoding-type',
  'marker',
  'response-content-type',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-cache-control',
  'response-expires',
]);

/**
 * A presigned URL carries its signature and the headers it signed (`X-Amz-*`) in the query. They
 * are dropped: the host signs again, and a hoisted header (`x-amz-acl`) is not the function's to set.
 */
const isPresignParam = (name: string): boolean => name.toLowerCase().startsWith('x-amz-');

/** What S3 calls a bucket name (no dots leading or trailing, no uppercase, 3 to 63 characters). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const SERVED_OPS =
  'GetObject, HeadObject, PutObject, CopyObject, DeleteObject, ListObjectsV2, ListObjects, HeadBucket and multipart uploads';

const refuse = (status: number, code: string, message: string): Classified => ({
  ok: false,
  status,
  code,
  message,
});
const unsupported = (what: string): Classified =>
  refuse(403, 'AccessDenied', `${what} is not available to functions; the platform serves ${SERVED_OPS}`);

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** `20260101T000000Z` + seconds → epoch ms, or undefined when either is malformed. */
function presignExpiry(date: string | undefined, expires: string | undefined): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date ?? '');
  if (!m || !/^\d{1,6}$/.test(expires ?? '')) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h, mi, s) + Number(expires) * 1000;
}

/** `bucket.localhost:4566` or `bucket.127.0.0.1:4566` name the bucket in the host (virtual-host style). */
function hostBucket(host: string | undefined): string | undefined {
  const name = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  const m = /^(.+)\.(localhost|127\.0\.0\.1)$/.exec(name);
  return m?.[1];
}

/**
 * Parses `x-amz-copy-source`: `[/]bucket/key[?versionId=v]`, URL-encoded. Decoded whole before
 * it is split, as S3 does: SDK users encode it with encodeURIComponent (`/` as `%2F`) or encodeURI.
 */
function copySourceOf(value: string): ObjectRef | undefined {
  const q = value.indexOf('?');
  const path = decode(q === -1 ? value : value.slice(0, q))?.replace(/^\//, '');
  const slash = path?.indexOf('/') ?? -1;
  if (path === undefined || slash <= 0) return undefined;
  const bucket = path.slice(0, slash);
  const key = path.slice(slash + 1);
  if (!BUCKET.test(bucket) || key === '') return undefined;
  if (q === -1) return { bucket, key };
  const m = /^versionId=([^&]*)$/.exec(value.slice(q + 1));
  const versionId = m ? decode(m[1] ?? '') : undefined;
  return versionId === undefined ? undefined : { bucket, key, versionId };
}

function objectOp(method: string, has: (p: string) => boolean, copying: boolean): S3Op | undefined {
  const upload = has('uploadId');
  if (method === 'GET') return upload ? 'ListParts' : has('uploads') ? undefined : 'GetObject';
  if (method === 'HEAD') return upload || has('uploads') ? undefined : 'HeadObject';
  if (method === 'PUT') {
    if (upload !== has('partNumber')) return undefined;
    if (upload) return copying ? 'UploadPartCopy' : 'UploadPart';
    return copying ? 'CopyObject' : 'PutObject';
  }
  if (method === 'POST')
    return has('uploads') ? 'CreateMultipartUpload' : upload ? 'CompleteMultipartUpload' : undefined;
  if (method === 'DELETE') return upload ? 'AbortMultipartUpload' : 'DeleteObject';
  return undefined;
}

const ACCESS: Record<S3Op, S3Access> = {
  GetObject: 'read',
  HeadObject: 'read',
  PutObject: 'write',
  CopyObject: 'write',
  DeleteObject: 'write',
  CreateMultipartUpload: 'write',
  UploadPart: 'write',
  UploadPartCopy: 'write',
  CompleteMultipartUpload: 'write',
  AbortMultipartUpload: 'write',
  // Uploads in progress exist only for writers; listing their parts is part of writing.
  ListParts: 'write',
  ListObjectsV2: 'list',
  ListObjects: 'list',
  HeadBucket: 'list',
};

/**
 * Classifies one S3 request. `path` and `query` are raw (percent-encoded); header names lower-case.
 * @example classify('GET', '/in/a%20b.txt', 'x-id=GetObject', {}) // GetObject of in / "a b.txt"
 */
export function classify(
  method: string,
  path: string,
  query: string,
  headers: Record<string, string>,
): Classified {
  const params: [string, string][] = [];
  const presign = new Map<string, string>();
  for (const part of query === '' ? [] : query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq === -1 ? part : part.slice(0, eq));
    const value = decode(eq === -1 ? '' : part.slice(eq + 1));
    if (name === undefined || value === undefined) return refuse(400, 'InvalidURI', 'malformed query string');
    if (isPresignParam(name)) presign.set(name.toLowerCase(), value);
    else if (!KNOWN_PARAMS.has(name)) return unsupported(`the ?${name} subresource`);
    else params.push([name, value]);
  }
  const has = (p: string) => params.some(([n]) => n === p);
  const param = (p: string) => params.find(([n]) => n === p)?.[1];
  const expiresAt = presign.size
    ? (presignExpiry(presign.get('x-amz-date'), presign.get('x-amz-expires')) ?? 0)
    : undefined;

  let rawBucket: string;
  let rawKey: string;
  const virtual = hostBucket(headers.host);
  if (virtual !== undefined) {
    [rawBucket, rawKey] = [virtual, path.slice(1)];
  } else {
    const slash = path.indexOf('/', 1);
    [rawBucket, rawKey] = slash === -1 ? [path.slice(1), ''] : [path.slice(1, slash), path.slice(slash + 1)];
  }
  const bucket = decode(rawBucket);
  const key = decode(rawKey);
  if (bucket === undefined || key === undefined)
    return refuse(400, 'InvalidURI', 'malformed percent-encoding in path');
  if (bucket === '') return unsupported('ListBuckets');
  if (!BUCKET.test(bucket))
    return refuse(400, 'InvalidBucketName', `${JSON.stringify(bucket)} is not a bucket name`);

  const base = { bucket, params, ...(expiresAt !== undefined ? { expiresAt } : {}) };
  if (key === '') {
    if (method === 'HEAD' && params.length === 0)
      return { ok: true, call: { ...base, op: 'HeadBucket', key: '', access: 'list' } };
    if (method !== 'GET' || has('uploads') || has('uploadId') || has('partNumber'))
      return unsupported(`${method} on a bucket (creating, deleting or configuring buckets)`);
    const op = param('list-type') === '2' ? 'ListObjectsV2' : has('list-type') ? undefined : 'ListObjects';
    if (!op) return unsupported(`list-type=${param('list-type')}`);
    return { ok: true, call: { ...base, op, key: param('prefix') ?? '', access: 'list' } };
  }

  const copyHeader = headers['x-amz-copy-source'];
  const op = objectOp(method, has, copyHeader !== undefined);
  if (!op) return unsupported(`${method} with ?${params.map(([n]) => n).join('&')}`);
  const call: S3Call = { ...base, op, key, access: ACCESS[op] };
  if (copyHeader !== undefined) {
    const copySource = copySourceOf(copyHeader);
    if (!copySource) return refuse(400, 'InvalidArgument', `malformed x-amz-copy-source: ${copyHeader}`);
    call.copySource = copySource;
  }
  return { ok: true, call };
}
