/**
 * Lambda's environment and context inside a real container, and the legacy ways handlers end
 * (callback, context.succeed/fail/done), against `faas up` as its own process.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformProcess, type RunningPlatform } from '../helpers/platform.js';
import { requireDocker, requireMinio, requireRedis } from '../helpers/services.js';

const TOKEN = randomBytes(24).toString('hex');

describe("Lambda's environment and context", () => {
  let p: RunningPlatform;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const invoke = async (fn: string, event: unknown) => {
    const res = await fetch(`${p.url}/functions/${fn}/invoke`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify(event),
    });
    return {
      status: res.status,
      id: res.headers.get('x-faas-invocation-id'),
      body: (await res.json()) as never,
    };
  };

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    (await requireMinio()).destroy();
    p = await startPlatformProcess(
      `version: 1
functions:
  env-report:
    handler: lambda-env/index.report
    memory: 192Mi
    timeout: 7s
    env: { LEVEL: debug }
  cjs-paths:
    handler: cjs-paths/index.handler
    timeout: 5s
    retry: { attempts: 1 }
  files-beside:
    handler: files-beside/index.handler
    timeout: 5s
    retry: { attempts: 1 }
  legacy:
    handler: legacy/index.callback
    timeout: 5s
    retry: { attempts: 1 }
  legacy-plain:
    handler: legacy/index.plain
    timeout: 5s
    retry: { attempts: 1 }
  legacy-async:
    handler: legacy/index.asyncDone
    timeout: 5s
    retry: { attempts: 1 }
`,
      ['lambda-env', 'legacy', 'cjs-paths', 'files-beside'],
      { FAAS_API_TOKEN: TOKEN, FAAS_HOST: '127.0.0.1', S3_REGION: 'eu-central-1' },
    );
  }, 120_000);

  afterAll(async () => {
    expect(await p?.stop()).toBe(0);
  });

  it('sets every Lambda environment variable and context field', async () => {
    const { status, id, body } = await invoke('env-report', { hello: 1 });
    expect(status).toBe(200);
    const r = body as {
      env: Record<string, string | null>;
      context: Record<string, unknown>;
      timeZone: string;
      event: unknown;
    };
    expect(r.event).toEqual({ hello: 1 });
    const stream = r.env.AWS_LAMBDA_LOG_STREAM_NAME as string;
    // The version is the deployed one (the platform started on this manifest: version 1), as an
    // alias's invocation on Lambda names the version it points at.
    expect(stream).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[1\][0-9a-f]{32}$/);
    expect(r.env).toEqual({
      AWS_LAMBDA_FUNCTION_NAME: 'env-report',
      AWS_LAMBDA_FUNCTION_VERSION: '1',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '192',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/env-report',
      AWS_LAMBDA_LOG_STREAM_NAME: stream,
      AWS_REGION: 'eu-central-1',
      AWS_DEFAULT_REGION: 'eu-central-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
      _HANDLER: 'lambda-env/index.report',
      LAMBDA_TASK_ROOT: '/var/task',
      LAMBDA_RUNTIME_DIR: '/opt/faas',
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      PATH: expect.stringContaining('/usr/bin'),
      NODE_PATH: expect.stringContaining('/var/task'),
      LEVEL: 'debug',
    });
    expect(r.timeZone).toBe('UTC');
    expect(r.context).toEqual({
      functionName: 'env-report',
      functionVersion: '1',
      invokedFunctionArn: 'arn:aws:lambda:eu-central-1:000000000000:function:env-report',
      memoryLimitInMB: '192',
      awsRequestId: id,
      logGroupName: '/aws/lambda/env-report',
      logStreamName: stream,
      identity: 'undefined',
      clientContext: 'undefined',
      callbackWaitsForEmptyEventLoop: true,
      remainingMs: expect.any(Number),
      invocationId: id,
      attempt: 1,
      methods: ['succeed', 'fail', 'done'],
      hasStorage: true,
      hasLogger: true,
    });
    expect(r.context.remainingMs).toBeGreaterThan(5000);
    expect(r.context.remainingMs).toBeLessThanOrEqual(7000);
  });

  it('runs from /var/task as Lambda lays it out: __dirname, __filename and the working folder', async () => {
    const { status, body } = await invoke('cjs-paths', {});
    expect(status).toBe(200);
    expect(body).toEqual({
      dirname: '/var/task/cjs-paths',
      filename: '/var/task/cjs-paths/index.mjs',
      cwd: '/var/task',
      taskRoot: ['cjs-paths'],
      readsItself: true,
    });
  });

  it('ships the files beside the handler, read-only, without hidden ones or what the bundle holds', async () => {
    const { status, body } = await invoke('files-beside', { config: 'config.json' });
    expect(status).toBe(200);
    expect(body).toEqual({
      greeting: 'HELLO FROM A FILE BESIDE THE HANDLER!',
      config: { region: 'eu-west-1', retries: 3 },
      page: '<!doctype html>\n<title>page</title>\n',
      // lib/shout.js is in the bundle; .secret is hidden; index.js became index.mjs.
      listing: ['data', 'greeting.txt', 'index.mjs', 'templates'],
      hidden: false,
      write: 'EROFS',
    });
    // A file the handler asks for that did not ship is the handler's own error.
    const missing = await invoke('files-beside', { config: 'absent.json' });
    expect(missing.status).toBe(502);
    expect(JSON.stringify(missing.body)).toContain('absent.json');
  });

  it.each([
    ['callback', { via: 'callback' }],
    ['succeed', { via: 'succeed' }],
    ['done', { via: 'done' }],
  ])('a callback-style handler ends by %s', async (mode, expected) => {
    const { status, body } = await invoke('legacy', { mode });
    expect(status).toBe(200);
    expect(body).toEqual(expected);
  });

  it.each([
    ['callback-error', 'Error', 'via callback'],
    ['done-error', 'TypeError', 'via done'],
    ['fail', 'Error', 'via fail'],
  ])('a callback-style handler fails by %s', async (mode, name, message) => {
    const { status, body } = await invoke('legacy', { mode });
    expect(status).toBe(502);
    expect(body).toMatchObject({ error: { kind: 'handler', name, message } });
  });

  it('waits for the work a callback-style invocation left running, unless told not to', async () => {
    const t0 = Date.now();
    const waited = await invoke('legacy', { mode: 'wait', wait: true, ms: 600 });
    const waitedMs = Date.now() - t0;
    expect(waited.status).toBe(200);
    const t1 = Date.now();
    const quick = await invoke('legacy', { mode: 'wait', wait: false, ms: 600 });
    const quickMs = Date.now() - t1;
    expect(quick.status).toBe(200);
    expect(waitedMs).toBeGreaterThanOrEqual(600);
    expect(quickMs).toBeLessThan(waitedMs);
    expect(quickMs).toBeLessThan(550);
  });

  it('a plain function ends by context.succeed, or with null once its work is done', async () => {
    expect((await invoke('legacy-plain', { mode: 'succeed' })).body).toEqual({ via: 'plain succeed' });
    const none = await invoke('legacy-plain', {});
    expect(none.status).toBe(200);
    expect(none.body).toBeNull();
  });

  it('an async handler ends by context.done before its promise settles', async () => {
    const { status, body } = await invoke('legacy-async', {});
    expect(status).toBe(200);
    expect(body).toEqual({ via: 'async done' });
  });
});
