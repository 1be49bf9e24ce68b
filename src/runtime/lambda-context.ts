import type { HandlerContext } from './context.js';
import { functionArn } from './lambda-env.js';
import type { InitMessage, InvokeMessage } from './protocol.js';

/** How a context's legacy methods (and the callback) end an invocation; the first call wins. */
export interface InvocationEnd {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * The context object of one invocation, with Lambda's fields and methods.
 * @example lambdaContext({ init, invoke: msg, logStreamName, end, logger, storage }).invokedFunctionArn
 */
export function lambdaContext(o: {
  init: InitMessage;
  invoke: InvokeMessage;
  logStreamName: string;
  end: InvocationEnd;
  logger: HandlerContext['logger'];
  storage: HandlerContext['storage'];
}): HandlerContext {
  const { init, invoke, end } = o;
  const finish = (error: unknown, value: unknown): void =>
    error !== null && error !== undefined ? end.reject(error) : end.resolve(value);
  return {
    functionName: init.functionName,
    functionVersion: init.version,
    invokedFunctionArn: functionArn(init.region, init.functionName),
    memoryLimitInMB: String(init.memoryMb),
    awsRequestId: invoke.id,
    logGroupName: `/aws/lambda/${init.functionName}`,
    logStreamName: o.logStreamName,
    identity: undefined,
    clientContext: undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, invoke.deadline - Date.now()),
    succeed: (value?: unknown) => end.resolve(value),
    fail: (error: unknown) => end.reject(error ?? new Error('context.fail() was called')),
    done: (error?: unknown, value?: unknown) => finish(error, value),
    invocationId: invoke.id,
    attempt: invoke.attempt,
    logger: o.logger,
    storage: o.storage,
  };
}
