import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import type { LogLevel } from './protocol.js';
import type { Storage } from './storage.js';

/** What a handler receives as its second argument: AWS Lambda's context, plus storage. */
export interface HandlerContext {
  invocationId: string;
  awsRequestId: string;
  functionName: string;
  functionVersion: string;
  memoryLimitInMB: string;
  attempt: number;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
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

export function makeLogger(id: string, sink: LogSink): HandlerContext['logger'] {
  const at =
    (level: LogLevel) =>
    (...args: unknown[]): void =>
      sink(id, level, format(...args));
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
