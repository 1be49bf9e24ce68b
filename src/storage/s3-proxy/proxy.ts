import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { S3StreamHeader, S3StreamReply } from '../../runtime/protocol.js';
import { authorize, type Grants } from './authorize.js';
import { classify, type S3Refusal } from './classify.js';
import { parseS3Header } from './header.js';
import { payloadHash, StoreSigner, type StoreTarget } from './sign.js';

export interface S3ProxyOptions extends StoreTarget {
  /**
   * The platform's code bucket, refused whatever a manifest grants.
   * @defaultValue 'faas-code'
   */
  codeBucket?: string;
  /** Called once per request with its outcome (for logs and metrics). */
  onRequest?: (outcome: { op: string; status: number; denied?: string }) => void;
}

/** Response headers that describe one hop, not the object: never passed back. */
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade']);

function xml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** S3's error document: the SDK raises it as an error named after `code`. */
export function s3ErrorBody(code: string, message: string, resource: string, requestId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${xml(code)}</Code><Message>${xml(message)}</Message>` +
    `<Resource>${xml(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`
  );
}

function answer(socket: Socket, reply: S3StreamReply): void {
  socket.write(JSON.stringify(reply) + '\n');
}

/**
 * The host's end of the in-container S3 endpoint: one S3 request per stream connection. It
 * classifies the request, checks it against the container's grants, signs it with the
 * platform's credentials and streams it to the store and the answer back, with backpressure
 * both ways, so memory stays bounded whatever the object's size.
 */
export class S3Proxy {
  private readonly signer: StoreSigner;
  private readonly agent: http.Agent;
  private readonly codeBucket: string;

  constructor(private readonly options: S3ProxyOptions) {
    this.signer = new StoreSigner(options);
    const secure = options.endpoint.protocol === 'https:';
    // Kept-alive connections: a small GetObject costs no TCP handshake.
    this.agent = new (secure ? https : http).Agent({ keepAlive: true, maxSockets: 256 });
    this.codeBucket = options.codeBucket ?? 'faas-code';
  }

  /**
   * Serves one S3 request whose header line `raw` was read from `socket`; the body follows on
   * it. `grants` is undefined until the container has been given a function. Rejects (and the
   * caller drops the connection) when the header is malformed.
   */
  async serve(socket: Socket, raw: unknown, grants: Grants | undefined): Promise<void> {
    const header = parseS3Header(raw);
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const classified = classify(header.method, header.path, header.query, header.headers);
    if (!classified.ok) return this.refuse(socket, header, classified, requestId, classified.code);
    const { call } = classified;
    const denial = authorize(call, grants, { codeBucket: this.codeBucket, now: Date.now() });
    if (denial)
      return this.refuse(
        socket,
        header,
        { status: 403, code: 'AccessDenied', message: denial },
        requestId,
        call.op,
      );
    const payload = payloadHash(header.headers);
    if (typeof payload !== 'string') return this.refuse(socket, header, payload, requestId, call.op);
    const out = await this.signer.sign(call, header.headers, header.method, payload);
    await this.forward(socket, header, out, call.op, requestId);
  }

  close(): void {
    this.agent.destroy();
  }

  private async forward(
    socket: Socket,
    header: S3StreamHeader,
    out: { method: string; path: string; headers: Record<string, string> },
    op: string,
    requestId: string,
  ): Promise<void> {
    const { endpoint } = this.options;
    const request = (endpoint.protocol === 'https:' ? https : http).request({
      protocol: endpoint.protocol,
      hostname: endpoint.hostname.replace(/^\[|\]$/g, ''),
      port: endpoint.port || undefined,
      method: out.method,
      path: out.path,
      headers: out.headers,
      agent: this.agent,
    });
    const responded = new Promise<http.IncomingMessage>((resolve, reject) => {
      request.once('response', resolve);
      request.once('error', reject);
    });
    const hasBody =
      header.headers['content-length'] !== undefined || header.headers['transfer-encoding'] !== undefined;
    // The body flows from the container straight into the store's request; a container that
    // goes away mid-upload destroys the request, so the store never completes a partial object.
    const sent = hasBody ? pipeline(socket, request) : Promise.resolve(void request.end());
    sent.catch(() => request.destroy());
    // Only before the answer is complete: afterwards the store's connection is back in the pool.
    let done = false;
    socket.once('close', () => done || request.destroy());
    let res: http.IncomingMessage;
    try {
      res = await responded;
    } catch (err) {
      const message = `the platform could not reach the object store: ${(err as Error).message}`;
      return this.refuse(socket, header, { status: 503, code: 'ServiceUnavailable', message }, requestId, op);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined && !HOP.has(name))
        headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const status = res.statusCode ?? 502;
    this.options.onRequest?.({ op, status });
    answer(socket, { status, headers });
    res.once('end', () => (done = true));
    await pipeline(res, socket).catch(() => socket.destroy());
  }

  private refuse(socket: Socket, header: S3StreamHeader, r: S3Refusal, requestId: string, op: string): void {
    this.options.onRequest?.({ op, status: r.status, denied: r.message });
    // A HEAD answer has no body: the SDK sees only the status (403) and names the error Unknown.
    const body = header.method === 'HEAD' ? '' : s3ErrorBody(r.code, r.message, header.path, requestId);
    answer(socket, {
      status: r.status,
      headers: {
        'content-type': 'application/xml',
        'content-length': String(Buffer.byteLength(body)),
        'x-amz-request-id': requestId,
        'x-amz-error-code': r.code,
      },
    });
    // The container may still be sending a body: it is read and dropped until the runtime, having
    // the answer, ends its side. Closing at once could lose the answer to the container's EPIPE.
    socket.resume();
    socket.end(body);
  }
}
