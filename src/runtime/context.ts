import { AsyncLocalStorage } from 'node:async_hooks';
import { StringDecoder } from 'node:string_decoder';
import { format } from 'node:util';
import type { LogLevel } from './protocol.js';
import type { Storage } from './storage.js';

/**
 * What a handler receives as its second argument: AWS Lambda's context (the fields of the
 * Node.js runtime's, including the legacy `succeed`, `fail` and `done`), plus the platform's own
 * `invocationId`, `attempt`, `logger` and `storage`.
 */
export interface HandlerContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  /** A string, as on Lambda. */
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  /** Set on Lambda only for calls from the mobile SDK: never here. */
  identity: undefined;
  clientContext: undefined;
  /**
   * Whether a callback-style invocation answers only once the work it started (timers, sockets,
   * storage calls) is done, as Lambda waits for the event loop to empty. `true` by default, as on
   * Lambda; `false` answers as soon as the callback is called. No effect on `async` handlers.
   */
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
  /** Legacy: ends the invocation with `value`. */
  succeed(value?: unknown): void;
  /** Legacy: ends the invocation with `error`. */
  fail(error: unknown): void;
  /** Legacy: ends the invocation, failed when `error` is set. */
  done(error?: unknown, value?: unknown): void;
  invocationId: string;
  /** Which attempt this is, from 1. */
  attempt: number;
  logger: Record<LogLevel, (...args: unknown[]) => void>;
  storage: Storage;
}

/** The invocation a piece of code runs for, so console output is attributed to it. */
export const current = new AsyncLocalStorage<string>();

type LogSink = (id: string, level: LogLevel, msg: string) => void;

/**
 * Routes console output written during an invocation to that invocation's log, even when
 * several invocations run at once; output outside any invocation goes to the container's stderr.
 */
export function captureConsole(sink: LogSink): void {
  const levels: Array<[keyof Console, LogLevel]> = [
    ['log', 'info'],
    ['info', 'info'],
    ['debug', 'debug'],
    ['trace', 'debug'],
    ['warn', 'warn'],
    ['error', 'error'],
  ];
  for (const [method, level] of levels) {
    const original = console[method] as (...args: unknown[]) => void;
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]): void => {
      const id = current.getStore();
      if (id === undefined) original.apply(console, args);
      else sink(id, level, format(...args));
    };
  }
}

/** A line written without its newline is logged once it reaches this size. */
const MAX_PENDING_LINE = 16 * 1024;

/**
 * Routes what an invocation writes to `process.stdout` and `process.stderr` directly (loggers
 * built on their own `Console`, `process.stdout.write`) to that invocation's log, line by line, at
 * `info` and `error`; writes outside any running invocation (`active`) go to the container's
 * streams. Returns the function that logs an invocation's unfinished line once it ends.
 */
export function captureStreams(sink: LogSink, active: (id: string) => boolean): (id: string) => void {
  /** Per invocation and stream: the bytes of a character cut between writes, and the unfinished line. */
  const pending = new Map<string, { decoder: StringDecoder; line: string }>();
  const streams: Array<[NodeJS.WriteStream, LogLevel]> = [
    [process.stdout, 'info'],
    [process.stderr, 'error'],
  ];
  for (const [stream, level] of streams) {
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
      const id = current.getStore();
      if (id === undefined || !active(id)) return original(chunk, ...rest);
      const key = `${level}\u0000${id}`;
      let p = pending.get(key);
      if (!p) pending.set(key, (p = { decoder: new StringDecoder('utf8'), line: '' }));
      const encoding = typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : undefined;
      const text =
        typeof chunk !== 'string'
          ? p.decoder.write(Buffer.from(chunk as Uint8Array))
          : encoding && encoding !== 'utf8' && encoding !== 'utf-8'
            ? p.decoder.write(Buffer.from(chunk, encoding))
            : chunk;
      const lines = (p.line + text).split('\n');
      p.line = lines.pop() as string;
      for (const line of lines) sink(id, level, line.replace(/\r$/, ''));
      if (p.line.length >= MAX_PENDING_LINE) {
        sink(id, level, p.line);
        p.line = '';
      }
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (done) process.nextTick(done);
      return true;
    }) as NodeJS.WriteStream['write'];
  }
  return (id) => {
    for (const [, level] of streams) {
      const key = `${level}\u0000${id}`;
      const p = pending.get(key);
      pending.delete(key);
      const left = p ? p.line + p.decoder.end() : '';
      if (left) sink(id, level, left);
    }
  };
}

export function makeLogger(id: string, sink: LogSink): HandlerContext['logger'] {
  const at =
    (level: LogLevel) =>
    (...args: unknown[]): void =>
      sink(id, level, format(...args));
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
