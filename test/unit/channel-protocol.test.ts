/**
 * The host's end of the runtime socket against a scripted runtime (a plain unix socket client):
 * which messages end the container (kind `protocol`, one 'violation') and which are only late.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RuntimeChannel } from '../../src/pool/channel.js';
import type { Violation } from '../../src/pool/violations.js';
import { MAX_LOG_BYTES, type ResultMessage } from '../../src/runtime/protocol.js';
import type { StorageGateway } from '../../src/storage/gateway.js';

const gateway = {
  list: async () => [],
  delete: async () => undefined,
} as unknown as StorageGateway;

/** A scripted runtime: sends lines, reads the host's lines. */
interface FakeRuntime {
  socket: Socket;
  lines: string[];
  send(line: string): void;
  next(): Promise<Record<string, unknown>>;
}

function runtime(path: string): Promise<FakeRuntime> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const lines: string[] = [];
    let buf = '';
    const waiters: Array<() => void> = [];
    socket.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      waiters.splice(0).forEach((w) => w());
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        socket,
        lines,
        send: (line) => socket.write(line + '\n'),
        async next() {
          while (lines.length === 0) await new Promise<void>((r) => waiters.push(r));
          return JSON.parse(lines.shift() as string) as Record<string, unknown>;
        },
      }),
    );
  });
}

describe('RuntimeChannel refuses what the protocol does not allow', () => {
  let dir: string;
  let channel: RuntimeChannel;
  let rt: FakeRuntime;
  let violations: Violation[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faas-channel-'));
    channel = await RuntimeChannel.listen(join(dir, 'host.sock'), gateway);
    violations = [];
    channel.on('violation', (v: Violation) => violations.push(v));
    rt = await runtime(channel.socketPath);
    rt.send(JSON.stringify({ t: 'hello', pid: 1, node: 'v20' }));
    await channel.hello(2000);
    const loaded = channel.init(
      {
        functionName: 'f',
        code: '',
        exportName: 'handler',
        handler: 'f/index.handler',
        version: '$LATEST',
        region: 'us-east-1',
        env: {},
        memoryMb: 128,
      },
      { read: [{ bucket: 'b', prefix: '' }], write: [] },
    );
    expect((await rt.next()).t).toBe('init');
    rt.send('{"t":"ready"}');
    await loaded;
  });

  afterEach(async () => {
    rt.socket.destroy();
    await channel.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Sends an invocation and waits until the runtime has it; `done` settles with its result. */
  async function invoke(id: string): Promise<{ done: Promise<ResultMessage> }> {
    const done = channel.invoke({ id, event: {}, deadline: Date.now() + 5000, attempt: 1 }, () => undefined);
    expect(await rt.next()).toMatchObject({ t: 'invoke', id });
    return { done };
  }

  const until = async (check: () => boolean) => {
    for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  };

  it.each([
    ['garbage', 'bad-json'],
    ['null', 'not-an-object'],
    ['{"t":"crash"}', 'bad-fields'],
    ['{"t":"nope"}', 'unknown-type'],
    ['{"t":"hello","pid":1,"node":"x"}', 'out-of-order'],
    ['{"t":"ready"}', 'out-of-order'],
    ['{"t":"result","id":"other.1","ok":true,"value":1}', 'unknown-invocation'],
    ['{"t":"log","id":"other.1","level":"info","msg":"x","ts":1}', 'unknown-invocation'],
    ['{"t":"storage","reqId":1,"id":"other.1","op":"list","bucket":"b","prefix":""}', 'unknown-invocation'],
  ])('%s on the control channel: the invocation fails with kind protocol (%s)', async (line, reason) => {
    const { done } = await invoke('f.1');
    rt.send(line);
    const result = await done;
    expect(result).toMatchObject({ ok: false, error: { kind: 'protocol' } });
    expect(result.error?.message).toContain(reason);
    await until(() => violations.length > 0);
    expect(violations).toEqual([expect.objectContaining({ reason })]);
    // Nothing more is served on it.
    expect(
      await channel.invoke({ id: 'f.2', event: {}, deadline: 0, attempt: 1 }, () => undefined),
    ).toMatchObject({
      ok: false,
      error: { kind: 'protocol' },
    });
  });

  it('a log flood past the budget is a violation', async () => {
    const { done } = await invoke('f.1');
    const msg = 'x'.repeat(64 * 1024);
    for (let i = 0; i <= MAX_LOG_BYTES / msg.length + 1; i++)
      rt.send(JSON.stringify({ t: 'log', id: 'f.1', level: 'info', msg, ts: 1 }));
    expect(await done).toMatchObject({ error: { kind: 'protocol' } });
    expect(violations.map((v) => v.reason)).toEqual(['log-budget']);
  });

  it.each([
    ['garbage', 'bad-json'],
    ['{"t":"hello","pid":1,"node":"x"}', 'not-a-stream'],
    ['{"t":"stream"}', 'bad-stream-header'],
    ['{"t":"stream","id":"other.1","op":"get","bucket":"b","key":"k"}', 'unknown-invocation'],
  ])('%s on a new connection: a violation (%s)', async (line, reason) => {
    const { done } = await invoke('f.1');
    const extra = await runtime(channel.socketPath);
    extra.send(line);
    expect(await done).toMatchObject({ ok: false, error: { kind: 'protocol' } });
    expect(violations.map((v) => v.reason)).toEqual([reason]);
    extra.socket.destroy();
  });

  it('a result after a timeout is late, not a violation', async () => {
    const { done } = await invoke('f.1');
    channel.abandon('f.1', { kind: 'timeout', message: 'timed out' });
    expect(await done).toMatchObject({ error: { kind: 'timeout' } });
    rt.send('{"t":"result","id":"f.1","ok":true,"value":1}');
    rt.send('{"t":"log","id":"f.1","level":"info","msg":"late","ts":1}');
    const { done: next } = await invoke('f.2');
    rt.send('{"t":"result","id":"f.2","ok":true,"value":2}');
    expect(await next).toMatchObject({ ok: true, value: 2 });
    expect(violations).toEqual([]);
  });

  it('a storage call after its invocation ended is refused, not a violation', async () => {
    const { done } = await invoke('f.1');
    rt.send('{"t":"result","id":"f.1","ok":true,"value":null}');
    await done;
    rt.send('{"t":"storage","reqId":9,"id":"f.1","op":"list","bucket":"b","prefix":""}');
    expect(await rt.next()).toMatchObject({
      t: 'storage-reply',
      reqId: 9,
      ok: false,
      error: { kind: 'permission' },
    });
    expect(violations).toEqual([]);
  });

  it('a second result for a finished invocation is a violation', async () => {
    const { done } = await invoke('f.1');
    rt.send('{"t":"result","id":"f.1","ok":true,"value":null}');
    await done;
    rt.send('{"t":"result","id":"f.1","ok":true,"value":null}');
    await until(() => violations.length > 0);
    expect(violations.map((v) => v.reason)).toEqual(['out-of-order']);
  });

  it('sends an invocation at once to an idle container, and holds one for a busy container until the turn ends', async () => {
    const control = (channel as unknown as { control: Socket }).control;
    const first = channel.invoke(
      { id: 'f.1', event: {}, deadline: Date.now() + 5000, attempt: 1 },
      () => undefined,
    );
    // Nothing else in flight: the write went out, nothing is held.
    expect(control.writableCorked).toBe(0);
    expect(await rt.next()).toMatchObject({ t: 'invoke', id: 'f.1' });
    const second = channel.invoke(
      { id: 'f.2', event: {}, deadline: Date.now() + 5000, attempt: 1 },
      () => undefined,
    );
    // The turn's first write, held all the same: f.1 is running.
    expect(control.writableCorked).toBe(1);
    const third = channel.invoke(
      { id: 'f.3', event: {}, deadline: Date.now() + 5000, attempt: 1 },
      () => undefined,
    );
    // f.1 runs: f.2 and f.3 wait for the end of this turn, then leave together, in order.
    expect(control.writableCorked).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(control.writableCorked).toBe(0);
    expect(await rt.next()).toMatchObject({ t: 'invoke', id: 'f.2' });
    expect(await rt.next()).toMatchObject({ t: 'invoke', id: 'f.3' });
    for (const id of ['f.1', 'f.2', 'f.3']) rt.send(`{"t":"result","id":"${id}","ok":true,"value":"${id}"}`);
    expect(await Promise.all([first, second, third])).toEqual(
      ['f.1', 'f.2', 'f.3'].map((id) => expect.objectContaining({ id, ok: true, value: id })),
    );
  });

  it('serves a storage call of an invocation in flight', async () => {
    await invoke('f.1');
    rt.send('{"t":"storage","reqId":3,"id":"f.1","op":"list","bucket":"b","prefix":""}');
    expect(await rt.next()).toEqual({ t: 'storage-reply', reqId: 3, ok: true, value: [] });
    expect(violations).toEqual([]);
  });
});
