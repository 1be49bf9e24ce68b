import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { S3Call, S3Refusal } from './classify.js';

/** What the signer hashes (its `SourceData`). */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string'
    ? d
    : ArrayBuffer.isView(d)
      ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
      : new Uint8Array(d);

/** SHA-256 (or HMAC-SHA-256 with a secret) in the shape the SigV4 signer takes. */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
}

export interface StoreTarget {
  /** The store's base URL, e.g. `http://127.0.0.1:9000`. */
  endpoint: URL;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** The request to send to the store: signed, path and query re-encoded from the classified call. */
export interface OutgoingRequest {
  method: string;
  /** Path and query, as written on the request line. */
  path: string;
  headers: Record<string, string>;
}

/**
 * Request headers passed on to the store. Everything else is dropped: the container's own
 * signature, date and session token (the host signs again), hop-by-hop headers, and headers of
 * features that are not the function's to set (bucket owners, request payers).
 */
const FORWARDED = new Set([
  'content-type',
  'content-length',
  'content-md5',
  'content-encoding',
  'content-disposition',
  'content-language',
  'cache-control',
  'expires',
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'x-amz-copy-source-range',
  'x-amz-metadata-directive',
  'x-amz-tagging',
  'x-amz-tagging-directive',
  'x-amz-storage-class',
  'x-amz-sdk-checksum-algorithm',
  'x-amz-checksum-algorithm',
  'x-amz-checksum-type',
  'x-amz-trailer',
  'x-amz-decoded-content-length',
  'x-amz-mp-object-size',
]);
const FORWARDED_PREFIXES = [
  'x-amz-meta-',
  'x-amz-checksum-',
  'x-amz-copy-source-if-',
  'x-amz-server-side-encryption',
];

const HEX_SHA256 = /^[0-9a-f]{64}$/;
/** Payload modes the store can check without the container's signing key. */
const UNSIGNED = new Set(['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']);

/**
 * The payload hash to sign with: the container's SHA-256 of the body when it sent one (the store
 * then checks the body against it), its unsigned modes as they are, `UNSIGNED-PAYLOAD` when it
 * sent none (a presigned URL). Chunk-signed uploads carry signatures made with the container's
 * useless key inside the body, which cannot be signed again without rewriting it: refused.
 */
export function payloadHash(headers: Record<string, string>): string | S3Refusal {
  const sent = headers['x-amz-content-sha256'];
  if (sent === undefined) return 'UNSIGNED-PAYLOAD';
  if (HEX_SHA256.test(sent) || UNSIGNED.has(sent)) return sent;
  return {
    status: 400,
    code: 'NotImplemented',
    message: `x-amz-content-sha256: ${sent} is not supported here: send unsigned or whole-body-hashed payloads (the AWS SDK's default over http)`,
  };
}

/** S3's URI encoding: RFC 3986 unreserved characters stay, everything else is percent-encoded. */
export function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function objectPath(bucket: string, key: string): string {
  return `/${escapeUri(bucket)}${key === '' ? '' : '/' + key.split('/').map(escapeUri).join('/')}`;
}

function forwardedHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (FORWARDED.has(name) || FORWARDED_PREFIXES.some((p) => name.startsWith(p))) out[name] = value;
  }
  return out;
}

/** A SigV4 signer for the store's S3 API with the platform's credentials. */
export function s3Signer(target: StoreTarget): SignatureV4 {
  return new SignatureV4({
    service: 's3',
    region: target.region,
    credentials: target.credentials,
    sha256: Sha256,
    // S3 signs the path as sent, without encoding it a second time.
    uriEscapePath: false,
    applyChecksum: false,
  });
}

/** Signs requests to the store with the platform's credentials. */
export class StoreSigner {
  private readonly signer: SignatureV4;

  constructor(private readonly target: StoreTarget) {
    this.signer = s3Signer(target);
  }

  /** The call as the store will see it, signed; `payload` is what {@link payloadHash} chose. */
  async sign(
    call: S3Call,
    headers: Record<string, string>,
    method: string,
    payload: string,
  ): Promise<OutgoingRequest> {
    const path = objectPath(call.bucket, call.key === '' || call.access === 'list' ? '' : call.key);
    const out = forwardedHeaders(headers);
    out.host = this.target.endpoint.host;
    out['x-amz-content-sha256'] = payload;
    if (call.copySource) {
      const { bucket, key, versionId } = call.copySource;
      out['x-amz-copy-source'] =
        objectPath(bucket, key) + (versionId === undefined ? '' : `?versionId=${escapeUri(versionId)}`);
    }
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of call.params) {
      const prev = query[name];
      query[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
    }
    const signed = await this.signer.sign({
      method,
      protocol: this.target.endpoint.protocol,
      hostname: this.target.endpoint.hostname,
      port: this.target.endpoint.port ? Number(this.target.endpoint.port) : undefined,
      path,
      query,
      headers: out,
    });
    const qs = call.params.map(([n, v]) => `${escapeUri(n)}=${escapeUri(v)}`).join('&');
    return { method, path: qs ? `${path}?${qs}` : path, headers: signed.headers };
  }
}
