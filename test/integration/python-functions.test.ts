/**
 * Python functions (`runtime: python3.11`) run by `faas up` as its own process, on real Docker:
 * Lambda's Python handler signature, environment and context; a sync webhook answering with
 * status, headers and a binary body; each failure with its exact error kind (a raise is
 * `handler` with type, message and traceback; past the timeout `timeout`; past the memory
 * `oom`); dependencies from requirements.txt, pure Python and a manylinux wheel (numpy).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformProcess, type RunningPlatform } from '../helpers/platform.js';
import { requireDocker, requireMinio, requireRedis } from '../helpers/services.js';

interface Record {
  status: string;
  error?: { kind: string; name?: string; message: string; stack?: string };
  logs: Array<{ level: string; msg: string }>;
  attempts: number;
}

describe('Python functions', () => {
  let p: RunningPlatform;
  const invoke = async (fn: string, event: unknown) => {
    const res = await fetch(`${p.url}/functions/${fn}/invoke`, {
      method: 'POST',
      body: JSON.stringify(event),
    });
    return {
      status: res.status,
      id: res.headers.get('x-faas-invocation-id') as string,
      body: await res.json(),
    };
  };
  const record = async (id: string) => (await (await fetch(`${p.url}/invocations/${id}`)).json()) as Record;

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    (await requireMinio()).destroy();
    p = await startPlatformProcess(
      `version: 1
functions:
  py-report:
    handler: py-basic/app.report
    runtime: python3.11
    memory: 192Mi
    timeout: 7s
    env: { LEVEL: debug }
  py-hook:
    handler: py-basic/app.hook
    runtime: python3.11
    triggers:
      - webhook: { path: /hooks/py, method: [GET, POST], mode: sync }
  py-fail:
    handler: py-basic/app.fail
    runtime: python3.11
    retry: { attempts: 1 }
  py-sleepy:
    handler: py-basic/app.sleepy
    runtime: python3.11
    timeout: 1s
    retry: { attempts: 1 }
  py-hog:
    handler: py-basic/app.hog
    runtime: python3.11
    memory: 128Mi
    retry: { attempts: 1 }
  py-dep:
    handler: py-dep/app.handler
    runtime: python3.11
  py-numpy:
    handler: py-numpy/app.handler
    runtime: python3.11
    memory: 256Mi
`,
      ['py-basic', 'py-dep', 'py-numpy'],
      { FAAS_PREWARM: '2', S3_REGION: 'eu-central-1' },
    );
  }, 300_000);

  afterAll(async () => {
    expect(await p?.stop()).toBe(0);
  });

  it("runs a Lambda Python handler with Lambda's environment and context, logs captured", async () => {
    const { status, id, body } = await invoke('py-report', { n: 7 });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({
      event: { n: 7 },
      shout: 'HI!',
      env: {
        AWS_LAMBDA_FUNCTION_NAME: 'py-report',
        AWS_LAMBDA_FUNCTION_VERSION: '1',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '192',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/py-report',
        AWS_LAMBDA_LOG_STREAM_NAME: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}\/\[1\][0-9a-f]{32}$/),
        AWS_REGION: 'eu-central-1',
        AWS_DEFAULT_REGION: 'eu-central-1',
        AWS_EXECUTION_ENV: 'AWS_Lambda_python3.11',
        _HANDLER: 'py-basic/app.report',
        LAMBDA_TASK_ROOT: '/var/task',
        TZ: ':UTC',
        LEVEL: 'debug',
        AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4566',
      },
      context: {
        function_name: 'py-report',
        function_version: '1',
        invoked_function_arn: 'arn:aws:lambda:eu-central-1:000000000000:function:py-report',
        memory_limit_in_mb: '192',
        aws_request_id: id,
        log_group_name: '/aws/lambda/py-report',
      },
      task_root_writable: false,
      cwd_files: expect.arrayContaining(['app.py', 'helpers.py']),
    });
    const remaining = (body as { context: { remaining: number } }).context.remaining;
    expect(remaining).toBeGreaterThan(5000);
    expect(remaining).toBeLessThanOrEqual(7000);
    const logs = (await record(id)).logs.map((l) => `${l.level} ${l.msg}`);
    expect(logs[0]).toBe('info event {"n": 7}');
    expect(logs[1]).toMatch(new RegExp(`^info \\[INFO\\]\\t\\S+Z\\t${id}\\tlogged 7$`));
  });

  it('a sync webhook (payload 2.0) answers with status, headers, cookies and a binary body', async () => {
    const res = await fetch(`${p.url}/hooks/py?x=1`);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('x-method')).toBe('GET');
    expect(res.headers.get('set-cookie')).toBe('a=1');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes]).toEqual([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255, ...Buffer.from('x=1')]);
  });

  it('an exception is error kind handler, with its type, message and traceback', async () => {
    const { status, id, body } = await invoke('py-fail', { order: 42 });
    expect(status).toBe(502);
    expect(body).toMatchObject({ error: { kind: 'handler', message: 'no such order: 42' } });
    const r = await record(id);
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({ kind: 'handler', name: 'BadInput', message: 'no such order: 42' });
    expect(r.error?.stack).toMatch(
      /^Traceback \(most recent call last\):\n {2}File "\/var\/task\/app\.py", line \d+, in fail\n[\s\S]*BadInput: no such order: 42\n$/,
    );
    expect(r.logs.map((l) => l.msg)).toContain('about to fail');
  });

  it('a handler past its timeout is error kind timeout', async () => {
    const { status, id } = await invoke('py-sleepy', {});
    expect(status).toBe(504);
    const r = await record(id);
    expect(r.error?.kind).toBe('timeout');
    expect(r.logs.map((l) => l.msg)).toContain('sleeping');
  });

  it('a handler past its memory is error kind oom', async () => {
    const { status, id } = await invoke('py-hog', {});
    expect(status).toBe(502);
    expect((await record(id)).error).toMatchObject({
      kind: 'oom',
      message: expect.stringContaining('128 MiB'),
    });
  });

  it('imports a pure-Python dependency from requirements.txt, installed at /var/task', async () => {
    const { status, body } = await invoke('py-dep', { bytes: 3_000_000 });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({ size: '3.0 MB', where: '/var/task/humanize/__init__.py' });
  });

  it('imports numpy (a manylinux binary wheel) and computes with it', async () => {
    const { status, body } = await invoke('py-numpy', { n: 10 });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({ version: '1.26.4', sum: 45, det: 5, shape: [5, 2] });
  });
});
