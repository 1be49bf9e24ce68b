/**
 * The program inside every function container. It connects to the host's socket, loads the
 * function's handler once when the host assigns the container to a function, then serves
 * invocations with AWS Lambda's handler signature until the container is stopped.
 *
 * Self-contained: bundled alone into the runtime image, it imports nothing from the rest of src/.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { coalesceWrites } from './coalesce.js';
import { captureConsole, captureStreams, current, makeLogger, type HandlerContext } from './context.js';
import { lambdaContext } from './lambda-context.js';
import { lambdaEnvironment, logStreamName } from './lambda-env.js';
import { readLines } from './lines.js';
import { PendingWork } from './pending-work.js';
import {
  CONTAINER_CODE_DIR,
  CONTAINER_SOCKET_DIR,
  LOGS_TRUNCATED,
  MAX_LINE_BYTES,
  MAX_LOG_BYTES,
  MAX_RESULT_BYTES,
  SOCKET_NAME,
  type HostMessage,
  type InitMessage,
  type InvokeMessage,
  type LogLevel,
  type RuntimeMessage,
  type StorageOp,
  type WireError,
} from './protocol.js';
import { startS3Endpoint } from './s3-endpoint.js';
import { makeStorage, StorageError } from './storage.js';

type Handler = (
  event: unknown,
  context: HandlerContext,
  callback?: (err: unknown, value?: unknown) => void,
) => unknown;

const socketPath = process.env.FAAS_SOCKET ?? join(CONTAINER_SOCKET_DIR, SOCKET_NAME);
const codeDir = process.env.FAAS_CODE_DIR ?? CONTAINER_CODE_DIR;
const control = connect(socketPath);
control.setNoDelay(true);
// The results (and logs) of the invocations that end in one turn go to the host in one write:
// each write wakes the host, and a busy container ends several invocations a turn.
coalesceWrites(control);
startS3Endpoint(socketPath);

function send(msg: RuntimeMessage): void {
  control.write(JSON.stringify(msg) + '\n');
}

/** Log bytes each running invocation may still send; absent once it finished or was cut. */
const logBudget = new Map<string, number>();
const sink = (id: string, level: LogLevel, msg: string): void => {
  const left = logBudget.get(id);
  if (left === undefined) return;
  const bytes = Buffer.byteLength(msg);
  if (bytes > left) {
    logBudget.delete(id);
    send({ t: 'log', id, level: 'warn', msg: LOGS_TRUNCATED, ts: Date.now() });
    return;
  }
  logBudget.set(id, left - bytes);
  send({ t: 'log', id, level, msg, ts: Date.now() });
};
captureConsole(sink);
/** Logs what an invocation wrote to stdout or stderr without a final newline. */
const endOutput = captureStreams(sink, (id) => logBudget.has(id));

/** Turns anything thrown into the wire form; errors may mark themselves permanent (no retry). */
export function toWireError(err: unknown, fallback: WireError['kind'] = 'handler'): WireError {
  if (err instanceof StorageError)
    return { kind: err.kind, name: err.name, message: err.message, stack: err.stack };
  if (err instanceof Error) {
    const permanent = (err as { permanent?: unknown }).permanent === true || err.name === 'PermanentError';
    return {
      kind: permanent ? 'permanent' : fallback,
      name: err.name,
      message: err.message,
      stack: err.stack,
    };
  }
  return {
    kind: fallback,
    name: 'Error',
    message: typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err)),
  };
}

let handler: Handler | undefined;
let fn: InitMessage | undefined;
let streamName = '';
let nextReq = 1;
const pending = new Map<
  number,
  { id: string; resolve: (v: unknown) => void; reject: (e: unknown) => void }
>();
/** Storage replies still awaited count as an invocation's unfinished work. */
const work = new PendingWork(current, (id) => [...pending.values()].some((p) => p.id === id));

function storageCall(id: string) {
  return (op: StorageOp): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const reqId = nextReq++;
      pending.set(reqId, { id, resolve, reject });
      send({ t: 'storage', reqId, id, ...op });
    });
}

async function init(msg: InitMessage): Promise<void> {
  fn = msg;
  // One log stream per execution environment, as on Lambda.
  streamName = logStreamName(Date.now(), msg.version, randomBytes(16).toString('hex'));
  Object.assign(process.env, lambdaEnvironment(msg, streamName));
  try {
    let file: string;
    if (msg.taskDir && msg.entry) {
      // The host put the bundle in /var/task, read-only, where Lambda keeps a function's code;
      // the working folder is that one too, as on Lambda.
      file = join(msg.taskDir, msg.entry);
      process.chdir(msg.taskDir);
    } else {
      await mkdir(codeDir, { recursive: true, mode: 0o700 });
      file = join(codeDir, 'index.mjs');
      await writeFile(file, msg.code, { mode: 0o400 });
    }
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const exported =
      mod[msg.exportName] ?? (mod.default as Record<string, unknown> | undefined)?.[msg.exportName];
    if (typeof exported !== 'function') {
      throw new Error(`the handler module has no exported function "${msg.exportName}"`);
    }
    handler = exported as Handler;
    send({ t: 'ready' });
  } catch (err) {
    send({ t: 'init-error', error: toWireError(err, 'init') });
  }
}

const isPromise = (v: unknown): v is Promise<unknown> =>
  typeof (v as Promise<unknown> | null)?.then === 'function';
/** A macrotask later, outside any invocation (so the wait is no work of the invocation's). */
const nextTurn = (): Promise<void> => current.exit(() => new Promise((r) => setImmediate(r)));

/**
 * Calls the handler as Lambda's Node.js runtime does. A returned promise gives the result. A
 * handler that returns none (callback style, or a plain function) ends by its callback or
 * `context.succeed`/`fail`/`done`; the answer then waits for the work it started when
 * `callbackWaitsForEmptyEventLoop` is true; one that never calls back ends with null once its
 * work is done (Lambda: once the event loop is empty). The legacy methods end any handler.
 */
async function callHandler(
  id: string,
  h: Handler,
  event: unknown,
  context: HandlerContext,
  ended: Promise<unknown>,
): Promise<unknown> {
  // An async function always returns a promise: no need to follow its work.
  const follow = h.constructor.name !== 'AsyncFunction';
  if (follow) work.track(id);
  try {
    const returned = h(event, context, (err, value) =>
      err !== null && err !== undefined ? context.fail(err) : context.succeed(value),
    );
    if (isPromise(returned)) return await Promise.race([returned, ended]);
    const idle = nextTurn()
      .then(() => work.drained(id))
      .then(() => null);
    const value = await Promise.race([ended, idle]);
    if (context.callbackWaitsForEmptyEventLoop) await work.drained(id);
    return value;
  } finally {
    if (follow) work.untrack(id);
    // Before the result is sent: the host takes an invocation's logs until its result.
    endOutput(id);
  }
}

async function invoke(msg: InvokeMessage): Promise<void> {
  const { id } = msg;
  if (!handler || !fn) {
    send({ t: 'result', id, ok: false, error: { kind: 'init', message: 'runtime has no function loaded' } });
    return;
  }
  let end!: { resolve: (v: unknown) => void; reject: (e: unknown) => void };
  const ended = new Promise<unknown>((resolve, reject) => (end = { resolve, reject }));
  // A context.fail() after the invocation ended rejects with no one listening: not a crash.
  ended.catch(() => undefined);
  const context = lambdaContext({
    init: fn,
    invoke: msg,
    logStreamName: streamName,
    end,
    logger: makeLogger(id, sink),
    storage: makeStorage(socketPath, id, storageCall(id)),
  });
  const h = handler;
  logBudget.set(id, MAX_LOG_BYTES);
  await current.run(id, async () => {
    try {
      const value = await callHandler(id, h, msg.event, context, ended);
      let json: string;
      try {
        json = JSON.stringify(value === undefined ? null : value);
      } catch (err) {
        // As Lambda's runtimes (and this platform's Python one) name it.
        const message = `Unable to marshal response: ${(err as Error).message}`;
        send({
          t: 'result',
          id,
          ok: false,
          error: { kind: 'handler', name: 'Runtime.MarshalError', message },
        });
        return;
      }
      if (Buffer.byteLength(json) > MAX_RESULT_BYTES) {
        send({
          t: 'result',
          id,
          ok: false,
          error: {
            kind: 'result-too-large',
            message: `result is ${Buffer.byteLength(json)} bytes; the limit is ${MAX_RESULT_BYTES}. Write large output to storage instead.`,
          },
        });
        return;
      }
      control.write(`{"t":"result","id":${JSON.stringify(id)},"ok":true,"value":${json}}\n`);
    } catch (err) {
      send({ t: 'result', id, ok: false, error: toWireError(err) });
    } finally {
      logBudget.delete(id);
    }
  });
}

function onMessage(msg: HostMessage): void {
  switch (msg.t) {
    case 'init':
      void init(msg);
      break;
    case 'invoke':
      void invoke(msg);
      break;
    case 'storage-reply': {
      const p = pending.get(msg.reqId);
      if (!p) return;
      pending.delete(msg.reqId);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new StorageError(msg.error ?? { kind: 'handler', message: 'storage call failed' }));
      break;
    }
  }
}

readLines(
  control,
  MAX_LINE_BYTES,
  (line) => onMessage(JSON.parse(line) as HostMessage),
  () => process.exit(70),
);
control.on('connect', () => send({ t: 'hello', pid: process.pid, node: process.version }));
// Without the host the container has no purpose: exit, and the pool replaces it.
control.on('close', () => process.exit(0));
control.on('error', (err) => {
  process.stderr.write(`faas runtime: cannot reach host socket ${socketPath}: ${err.message}\n`);
  process.exit(69);
});

// An error escaping every invocation leaves the process in an unknown state: report, then exit,
// as Lambda's runtime does. The host fails the invocations in flight with kind 'exit'.
const crash = (err: unknown): void => {
  const error = toWireError(err, 'exit');
  error.kind = 'exit';
  control.write(JSON.stringify({ t: 'crash', error } satisfies RuntimeMessage) + '\n', () => process.exit(1));
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
