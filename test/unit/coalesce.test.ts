/**
 * Coalesced writes on a real unix socket: the first write of a turn goes out at once, the rest of
 * the turn's go in one more write, and the reader gets every byte in order.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { coalesceWrites, holdTurn } from '../../src/runtime/coalesce.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Counts the writes the socket hands to the system: one per `_write` or `_writev`. */
function countWrites(socket: Socket): { calls: number } {
  const seen = { calls: 0 };
  const s = socket as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
  for (const k of ['_write', '_writev'] as const) {
    const orig = s[k].bind(socket);
    s[k] = (...a: unknown[]) => {
      seen.calls++;
      return orig(...a);
    };
  }
  return seen;
}

describe('coalesceWrites', () => {
  let dir: string;
  let server: Server;
  let received: Promise<string>;
  let client: Socket;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faas-coalesce-'));
    const path = join(dir, 's.sock');
    received = new Promise<string>((resolve) => {
      server = createServer((s) => {
        let text = '';
        s.setEncoding('utf8');
        s.on('data', (d: string) => (text += d));
        s.on('close', () => resolve(text));
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    client = connect(path);
    await new Promise((resolve) => client.once('connect', resolve));
  });

  afterEach(async () => {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('sends a turn of writes in two system calls, in order', async () => {
    coalesceWrites(client);
    const writes = countWrites(client);
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i}\n`);
    for (const l of lines) client.write(l);
    // The first went out at once; the other 199 wait for the turn's end.
    expect(writes.calls).toBe(1);
    await turn();
    expect(writes.calls).toBe(2);
    client.end();
    expect(await received).toBe(lines.join(''));
  });

  it('holds nothing back when each turn writes once', async () => {
    coalesceWrites(client);
    const writes = countWrites(client);
    for (let i = 0; i < 5; i++) {
      client.write(`alone ${i}\n`);
      // Handed to the system before the turn ends: a lone message waits for nothing.
      expect(writes.calls).toBe(i + 1);
      await turn();
    }
    client.end();
    expect(await received).toBe([0, 1, 2, 3, 4].map((i) => `alone ${i}\n`).join(''));
  });

  it("holds the turn's first write too when told to, and only for that turn", async () => {
    coalesceWrites(client);
    const writes = countWrites(client);
    holdTurn(client);
    client.write('record\n');
    client.write('completion\n');
    expect(writes.calls).toBe(0);
    await turn();
    // Both in one write, in order; the next turn's first write goes out at once again.
    expect(writes.calls).toBe(1);
    client.write('next\n');
    expect(writes.calls).toBe(2);
    client.end();
    expect(await received).toBe('record\ncompletion\nnext\n');
  });

  it('holding a stream that does not coalesce changes nothing', async () => {
    const writes = countWrites(client);
    holdTurn(client);
    client.write('a\n');
    expect(writes.calls).toBe(1);
    client.end();
    expect(await received).toBe('a\n');
  });

  it('flushes what it holds when the stream is ended in the same turn', async () => {
    coalesceWrites(client);
    coalesceWrites(client); // a second call changes nothing
    client.write('a\n');
    client.write('b\n');
    client.end('c\n');
    expect(await received).toBe('a\nb\nc\n');
  });

  it('does not throw when the stream is destroyed with writes held', async () => {
    coalesceWrites(client);
    client.on('error', () => undefined);
    client.write('x\n');
    client.write('y\n');
    client.destroy();
    await turn();
    expect(client.destroyed).toBe(true);
    expect(await received).toMatch(/^(x\n)?$/);
  });
});
