import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { clientWentAway } from '../../src/api/client-gone.js';
import { onError } from '../../src/api/errors.js';

/** An error as Node raises it on a request stream whose client left mid-body. */
function aborted(): Error {
  return Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
}

/** A stand-in for Node's IncomingMessage, with only what the check reads. */
function incoming(o: { readableAborted?: boolean; socketDestroyed?: boolean; errored?: Error | null }) {
  return {
    readableAborted: o.readableAborted ?? false,
    socket: { destroyed: o.socketDestroyed ?? false },
    errored: o.errored ?? null,
  };
}

/** Runs `clientWentAway` inside a request whose `env.incoming` is `inc`. */
async function judge(err: Error, inc: unknown): Promise<boolean> {
  let verdict: boolean | undefined;
  const app = new Hono();
  app.get('/', () => {
    throw err;
  });
  app.onError((e, c) => {
    verdict = clientWentAway(e, c);
    return c.text('x', 500);
  });
  await app.request('/', {}, inc === undefined ? undefined : { incoming: inc });
  return verdict as boolean;
}

describe('clientWentAway', () => {
  const err = aborted();
  const cases: Array<[string, Error, unknown, boolean]> = [
    [
      'the stream error itself, request aborted',
      err,
      incoming({ readableAborted: true, errored: err }),
      true,
    ],
    ['ECONNRESET, socket destroyed', aborted(), incoming({ socketDestroyed: true }), true],
    [
      "node-server's abort reason, socket destroyed",
      new Error('Client connection prematurely closed.'),
      incoming({ socketDestroyed: true }),
      true,
    ],
    [
      '"Error: aborted" as node-server rewraps it',
      new Error('Error: aborted'),
      incoming({ readableAborted: true }),
      true,
    ],
    [
      'an AbortError, socket destroyed',
      Object.assign(new Error('x'), { name: 'AbortError' }),
      incoming({ socketDestroyed: true }),
      true,
    ],
    // The client is still there: whatever the wording, it is the server's error.
    ['ECONNRESET from elsewhere (Redis), client connected', aborted(), incoming({}), false],
    ['"aborted", client connected', new Error('aborted'), incoming({}), false],
    // The client left, but this is a handler bug, not the disconnect.
    [
      'a TypeError while the client left',
      new TypeError('x is undefined'),
      incoming({ socketDestroyed: true }),
      false,
    ],
    ['no Node request (in-memory)', aborted(), undefined, false],
  ];

  it.each(cases)('%s → %s', async (_label, e, inc, expected) => {
    expect(await judge(e, inc)).toBe(expected);
  });
});

describe('onError with a client gone', () => {
  it('reports it as aborted, not as a failure; a real failure is still logged', async () => {
    const failed: Error[] = [];
    const gone: Error[] = [];
    const app = new Hono();
    app.onError(
      onError(
        (e) => failed.push(e),
        (e) => gone.push(e),
      ),
    );
    app.get('/gone', () => {
      throw aborted();
    });
    app.get('/bug', () => {
      throw new Error('bug');
    });
    const env = { incoming: incoming({ socketDestroyed: true }) };
    await app.request('/gone', {}, env);
    expect([failed.length, gone.length]).toEqual([0, 1]);
    const res = await app.request('/bug', {}, env);
    expect(res.status).toBe(500);
    expect(failed.map((e) => e.message)).toEqual(['bug']);
    expect(gone).toHaveLength(1);
  });
});
