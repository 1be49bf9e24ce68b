import { Hono } from 'hono';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { onError } from '../../src/api/errors.js';
import { minioTargetRoute, TARGET_PATH } from '../../src/triggers/bucket/target.js';

const TOKEN = 't'.repeat(24);

/** A logger whose lines land in `lines`, parsed. */
function capture(lines: Array<{ level: number; msg: string }>) {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return pino({ level: 'debug' }, sink);
}

/** A request body that sends a few bytes and then fails as Node's does when its client leaves. */
function cutShort(): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(new TextEncoder().encode('{"Records": ['));
        return;
      }
      controller.error(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    },
  });
}

describe('POST /minio/events when MinIO goes away mid-body', () => {
  it('is a client gone (counted), not a malformed notification logged as an error', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const failed: Error[] = [];
    const gone: Error[] = [];
    const app = new Hono();
    app.onError(
      onError(
        (e) => failed.push(e),
        (e) => gone.push(e),
      ),
    );
    minioTargetRoute(app, {
      token: TOKEN,
      functions: [],
      enqueue: { enqueue: async () => [] },
      logger: capture(lines),
      bodyLimit: 1 << 20,
    });
    const env = { incoming: { readableAborted: true, socket: { destroyed: true }, errored: null } };
    const res = await app.request(
      TARGET_PATH,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-length': '1000' },
        body: cutShort(),
        duplex: 'half',
      } as RequestInit,
      env,
    );
    expect(res.status).not.toBe(200);
    expect(gone).toHaveLength(1);
    expect(failed).toEqual([]);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });
});
