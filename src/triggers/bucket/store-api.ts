/**
 * The two calls of MinIO's API that bucket events need beyond plain S3 objects, signed with the
 * platform's credentials: replacing a bucket's notification configuration (`PUT /<bucket>?notification`)
 * and presigning a listen request (`GET /<bucket>?events=…`, MinIO's extension). A small client of
 * its own rather than MinIO's SDK, which the platform would load for these two calls alone.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { SignatureV4 } from '@smithy/signature-v4';
import { escapeUri, s3Signer, type StoreTarget } from '../../storage/s3-proxy/sign.js';

/** One queue configuration of a bucket's notification rules. */
export interface NotificationRule {
  /** The target's ARN, e.g. `arn:minio:sqs::FAAS:webhook`. */
  arn: string;
  events: string[];
  prefix?: string;
  suffix?: string;
}

/** An error reply of the store: `code` is its error code (`InvalidArgument`, `NoSuchBucket`). */
export class StoreApiError extends Error {
  override readonly name = 'StoreApiError';
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly status: number,
  ) {
    super(message);
  }
}

const MAX_REPLY = 64 * 1024;
const TIMEOUT_MS = 15_000;

const xml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string,
  );

/** S3's NotificationConfiguration document for these rules. */
export function notificationXml(rules: NotificationRule[]): string {
  const queue = (r: NotificationRule) => {
    const filters = [...(r.prefix ? [['prefix', r.prefix]] : []), ...(r.suffix ? [['suffix', r.suffix]] : [])]
      .map(
        ([name, value]) =>
          `<FilterRule><Name>${name}</Name><Value>${xml(value as string)}</Value></FilterRule>`,
      )
      .join('');
    return (
      `<QueueConfiguration><Queue>${xml(r.arn)}</Queue>` +
      r.events.map((e) => `<Event>${xml(e)}</Event>`).join('') +
      (filters ? `<Filter><S3Key>${filters}</S3Key></Filter>` : '') +
      `</QueueConfiguration>`
    );
  };
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    rules.map(queue).join('') +
    '</NotificationConfiguration>'
  );
}

/** The code and message of an S3 error document; what the reply says when it is not one. */
export function errorFromReply(status: number, body: string): StoreApiError {
  const field = (name: string) => new RegExp(`<${name}>([^<]{0,1000})</${name}>`).exec(body)?.[1];
  const code = field('Code');
  const message = field('Message') ?? (body.trim().slice(0, 200) || `HTTP ${status}`);
  return new StoreApiError(code ? `${code}: ${message}` : message, code, status);
}

export class StoreApi {
  private readonly signer: SignatureV4;

  constructor(private readonly target: StoreTarget) {
    this.signer = s3Signer(target);
  }

  private base(path: string, query: Record<string, string | string[]>, headers: Record<string, string>) {
    const { endpoint } = this.target;
    return {
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : undefined,
      path,
      query,
      headers: { host: endpoint.host, ...headers },
    };
  }

  /** Replaces the bucket's notification configuration with these rules. */
  async setBucketNotification(bucket: string, rules: NotificationRule[]): Promise<void> {
    const body = notificationXml(rules);
    const sha = createHash('sha256').update(body).digest('hex');
    const path = `/${escapeUri(bucket)}`;
    const signed = await this.signer.sign({
      method: 'PUT',
      ...this.base(
        path,
        { notification: '' },
        {
          'content-type': 'application/xml',
          'content-length': String(Buffer.byteLength(body)),
          'x-amz-content-sha256': sha,
        },
      ),
    });
    const { status, text } = await this.send('PUT', `${path}?notification=`, signed.headers, body);
    if (status !== 200) throw errorFromReply(status, text);
  }

  /** A presigned URL of MinIO's listen API; arrays in `query` become repeated keys. */
  async listenUrl(bucket: string, query: Record<string, string | string[]>, ttlS: number): Promise<string> {
    const path = `/${escapeUri(bucket)}`;
    // The signer sorts a parameter's repeated values and MinIO checks the signature against the
    // order the URL gives them: the URL must carry them sorted too, or the stream is refused
    // (403 SignatureDoesNotMatch) for events listed in any other order.
    query = Object.fromEntries(
      Object.entries(query).map(([k, v]) => [k, Array.isArray(v) ? [...v].sort() : v]),
    );
    // A presigned request's payload is UNSIGNED-PAYLOAD: the header only tells the signer so, and
    // stays out of the URL and the signed headers.
    const payload = 'x-amz-content-sha256';
    const signed = await this.signer.presign(
      { method: 'GET', ...this.base(path, query, { [payload]: 'UNSIGNED-PAYLOAD' }) },
      { expiresIn: ttlS, unsignableHeaders: new Set([payload]), unhoistableHeaders: new Set([payload]) },
    );
    const qs = Object.entries(signed.query ?? {})
      .flatMap(([k, v]) => (Array.isArray(v) ? v : [v ?? '']).map((x) => `${escapeUri(k)}=${escapeUri(x)}`))
      .join('&');
    return `${this.target.endpoint.origin}${path}?${qs}`;
  }

  private send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<{ status: number; text: string }> {
    const { endpoint } = this.target;
    const request = endpoint.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          method,
          hostname: endpoint.hostname.replace(/^\[|\]$/g, ''),
          port: endpoint.port || undefined,
          path,
          headers,
          timeout: TIMEOUT_MS,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (text.length < MAX_REPLY) text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`the store did not answer ${method} ${path} within ${TIMEOUT_MS} ms`)),
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}
