/**
 * AWS Lambda's environment variables for a function, as the Node.js 20 runtime sets them. Pure;
 * the runtime applies them when the host assigns it a function.
 */
import type { InitMessage } from './protocol.js';

/** Where code and dependencies are (LAMBDA_TASK_ROOT), as on Lambda. */
export const TASK_ROOT = '/var/task';
/** Where this runtime program lives in the image (LAMBDA_RUNTIME_DIR; `/var/runtime` on AWS). */
export const RUNTIME_DIR = '/opt/faas';

/** Variables a function's manifest `env` may replace (AWS lets functions set these too). */
const DEFAULTS: Record<string, string> = {
  LANG: 'en_US.UTF-8',
  TZ: ':UTC',
  PATH: '/usr/local/bin:/usr/bin:/bin:/opt/bin',
  // Lambda's lookup order; CommonJS `require` of a bare name searches these.
  NODE_PATH: `/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:${RUNTIME_DIR}/node_modules:${RUNTIME_DIR}:${TASK_ROOT}`,
};

/**
 * The log stream name Lambda gives an execution environment: `YYYY/MM/DD/[version]` and a random
 * hex id, one per container.
 * @example logStreamName(Date.UTC(2026, 10, 30), '$LATEST', 'ab12…') // '2026/11/30/[$LATEST]ab12…'
 */
export function logStreamName(nowMs: number, version: string, hexId: string): string {
  const d = new Date(nowMs).toISOString().slice(0, 10).replaceAll('-', '/');
  return `${d}/[${version}]${hexId}`;
}

/**
 * The environment a function sees: Lambda's defaults, then the manifest's `env`, then the
 * variables Lambda reserves (which no function can change on AWS either).
 * @example lambdaEnvironment(init, '2026/11/30/[$LATEST]ab12…').AWS_LAMBDA_LOG_GROUP_NAME // '/aws/lambda/csv-summary'
 */
export function lambdaEnvironment(init: InitMessage, streamName: string): Record<string, string> {
  return {
    ...DEFAULTS,
    ...init.env,
    AWS_LAMBDA_FUNCTION_NAME: init.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: init.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(init.memoryMb),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${init.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: streamName,
    AWS_REGION: init.region,
    AWS_DEFAULT_REGION: init.region,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
    _HANDLER: init.handler,
    LAMBDA_TASK_ROOT: TASK_ROOT,
    LAMBDA_RUNTIME_DIR: RUNTIME_DIR,
  };
}

/** The function's ARN as Lambda's context gives it (the account id is all zeros: there is none). */
export function functionArn(region: string, functionName: string): string {
  return `arn:aws:lambda:${region}:000000000000:function:${functionName}`;
}
