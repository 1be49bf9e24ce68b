import { describe, expect, it } from 'vitest';
import { lambdaContext } from '../../src/runtime/lambda-context.js';
import { functionArn, lambdaEnvironment, logStreamName } from '../../src/runtime/lambda-env.js';
import type { InitMessage } from '../../src/runtime/protocol.js';

const init: InitMessage = {
  t: 'init',
  functionName: 'csv-summary',
  handler: 'csv-summary/index.handler',
  version: '$LATEST',
  region: 'eu-west-1',
  code: '',
  exportName: 'handler',
  env: { LEVEL: 'info', TZ: 'Europe/Paris', AWS_REGION: 'nope', AWS_LAMBDA_FUNCTION_NAME: 'nope' },
  memoryMb: 256,
};

describe("Lambda's environment", () => {
  it('has every variable Lambda sets; the manifest may change LANG, PATH, NODE_PATH and TZ, not the rest', () => {
    const env = lambdaEnvironment(init, '2026/11/30/[$LATEST]abc');
    expect(env).toMatchObject({
      AWS_LAMBDA_FUNCTION_NAME: 'csv-summary',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/csv-summary',
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/30/[$LATEST]abc',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
      _HANDLER: 'csv-summary/index.handler',
      LAMBDA_TASK_ROOT: '/var/task',
      LAMBDA_RUNTIME_DIR: '/opt/faas',
      LANG: 'en_US.UTF-8',
      TZ: 'Europe/Paris',
      LEVEL: 'info',
    });
    expect(env.PATH).toMatch(/\/usr\/bin/);
    expect(env.NODE_PATH).toMatch(/\/var\/task$/);
    expect(lambdaEnvironment({ ...init, env: {} }, 'x').TZ).toBe(':UTC');
  });

  it('names log streams by date, version and a per-container id', () => {
    expect(logStreamName(Date.UTC(2026, 10, 30, 23, 59), '$LATEST', 'f00d')).toBe('2026/11/30/[$LATEST]f00d');
  });

  it('gives the ARN with an all-zero account', () => {
    expect(functionArn('eu-west-1', 'x')).toBe('arn:aws:lambda:eu-west-1:000000000000:function:x');
  });
});

describe("Lambda's context", () => {
  function make() {
    const ended: Array<['resolve' | 'reject', unknown]> = [];
    const context = lambdaContext({
      init,
      invoke: { t: 'invoke', id: 'csv-summary.42', event: {}, deadline: Date.now() + 10_000, attempt: 2 },
      logStreamName: 'stream',
      end: { resolve: (v) => ended.push(['resolve', v]), reject: (e) => ended.push(['reject', e]) },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      storage: {} as never,
    });
    return { context, ended };
  }

  it('has the fields of the Node.js runtime', () => {
    const { context } = make();
    expect(context).toMatchObject({
      functionName: 'csv-summary',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:csv-summary',
      memoryLimitInMB: '256',
      awsRequestId: 'csv-summary.42',
      logGroupName: '/aws/lambda/csv-summary',
      logStreamName: 'stream',
      callbackWaitsForEmptyEventLoop: true,
      invocationId: 'csv-summary.42',
      attempt: 2,
    });
    expect('identity' in context && context.identity === undefined).toBe(true);
    expect('clientContext' in context && context.clientContext === undefined).toBe(true);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(9000);
  });

  it.each([
    ['succeed(v)', (c: ReturnType<typeof make>['context']) => c.succeed('v'), ['resolve', 'v']],
    ['fail(e)', (c: ReturnType<typeof make>['context']) => c.fail('e'), ['reject', 'e']],
    ['done(null, v)', (c: ReturnType<typeof make>['context']) => c.done(null, 'v'), ['resolve', 'v']],
    ['done(e)', (c: ReturnType<typeof make>['context']) => c.done('e'), ['reject', 'e']],
  ] as const)('%s ends the invocation', (_name, call, expected) => {
    const { context, ended } = make();
    call(context);
    expect(ended).toEqual([expected]);
  });
});
