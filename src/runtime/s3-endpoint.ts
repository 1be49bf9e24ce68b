/**
 * An S3 endpoint on the container's loopback, so that Lambda code written as
 * `new S3Client({})` works unchanged in a container without a network. Each HTTP request
 * becomes one stream connection to the host's socket: a JSON header line, then the body bytes.
 * The host checks the request against the function's grants, signs it with the platform's own
 * credentials and streams S3's answer back: a status line, then the body bytes. Bodies stream
 * both ways with backpressure, so an object of any size costs a few buffers of memory.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { readFirstLine } from './lines.js';
import {
  MAX_S3_HEADER_BYTES,
  S3_ENDPOINT_PORT,
  type S3StreamHeader,
  type S3StreamReply,
} from './protocol.js';

/**
 * What Lambda code needs to find the endpoint with no configuration. The credentials authorize
 * nothing: the host ignores them and signs every request itself, after checking the grants.
 * `AWS_ENDPOINT_URL_S3` (not `AWS_ENDPOINT_URL`) leaves every other AWS client alone. The SDK
 * addresses buckets path-style (`/bucket/key`) at an IP endpoint, which is what the host expects.
 */
export function s3Environment(port = S3_ENDPOINT_PORT): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'FAASCONTAINERLOCAL',
    AWS_SECRET_ACCESS_KEY: 'container-local-the-host-signs-every-request',
    AWS_SESSION_TOKEN: 'container-local',
  };
}

/** S3's own error document, so the SDK raises an error named after `code`. */
function errorXml(code: string, message: string): string {
  const esc = message.replace(/[<>&]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&amp;'));
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${esc}</Message></Error>`;
}

function headerOf(req: IncomingMessage): S3StreamHeader {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    t: 's3',
    method: req.method ?? 'GET',
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers,
  };
}

async function relay(socketPath: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const host = connect(socketPath);
  host.on('error', () => undefined);
  try {
    host.write(JSON.stringify(headerOf(req)) + '\n');
    // The request body goes up while the answer is awaited (pipe keeps the backpressure).
    req.pipe(host);
    const reply = JSON.parse(await readFirstLine(host, MAX_S3_HEADER_BYTES)) as S3StreamReply;
    if (reply.status >= 300) {
      // A refusal comes before the body is read: stop sending it, and drop the rest unread.
      req.unpipe(host);
      host.end();
      req.resume();
    }
    res.writeHead(reply.status, reply.headers);
    await pipeline(host, res);
  } catch (err) {
    if (!res.headersSent) {
      const body = errorXml(
        'ServiceUnavailable',
        `the platform's S3 bridge failed: ${(err as Error).message}`,
      );
      res.writeHead(503, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } else {
      res.destroy();
    }
  } finally {
    host.destroy();
  }
}

/**
 * Sets the S3 environment (values already set win, so a function's own env can override them)
 * and serves the endpoint on 127.0.0.1 for the life of the runtime.
 */
export function startS3Endpoint(socketPath: string, port = S3_ENDPOINT_PORT): Server {
  for (const [name, value] of Object.entries(s3Environment(port))) process.env[name] ??= value;
  const server = createServer((req, res) => void relay(socketPath, req, res));
  // Uploads of large objects take as long as they take; the host and the handler's timeout bound them.
  server.requestTimeout = 0;
  server.on('error', (err) => process.stderr.write(`faas runtime: S3 endpoint: ${err.message}\n`));
  server.listen(port, '127.0.0.1');
  server.unref();
  return server;
}
