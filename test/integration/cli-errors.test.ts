/**
 * Every CLI verb, run as a real child process (`node bin/faas.js`, after `npm run build`), given
 * bad input, a stopped service, an unreachable platform or a bad setting: each must exit non-zero
 * with one clear line on stderr (a manifest's problems one line each, then one summary line) and
 * never a stack trace. Stopped services are closed loopback ports freed just before; the real
 * Redis and MinIO keep running. Client verbs meet a real `faas api` for unknown names and ids.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, writeManifestDir } from '../helpers/platform.js';
import { requireMinio, requireRedis } from '../helpers/services.js';

interface Row {
  verb: string;
  /** What is wrong. */
  why: string;
  args: () => string[];
  env?: () => Record<string, string>;
  /** The one line (or the first of a manifest's two) the command must print. */
  line: RegExp;
  /** The manifest format: the problem line, then a summary line. */
  summary?: RegExp;
}

interface Run {
  code: number | null;
  stderr: string;
  /** Stderr without the platform's structured log lines (JSON objects with a level). */
  lines: string[];
}

const SUFFIX = Math.random().toString(36).slice(2, 8);
let dir = '';
const manifests: Record<string, string> = {};
/** Ports where nothing listens: freed just before, never the real services'. */
let closed = { redis: 0, minio: 0, api: 0 };
let platform: { child: ChildProcess; url: string; port: number } | undefined;

function faas(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = runCli(args, { FAAS_STATE_DIR: join(dir, 'state'), FAAS_INSTANCE: `r${SUFFIX}`, ...env });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.resume();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`faas ${args.join(' ')} did not exit within 30 s:\n${stderr}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const lines = stderr.split('\n').filter((l) => l !== '' && !isLogLine(l));
      resolve({ code, stderr, lines });
    });
  });
}

function isLogLine(line: string): boolean {
  try {
    return typeof (JSON.parse(line) as { level?: unknown }).level === 'number';
  } catch {
    return false;
  }
}

const M = (name: string) => () => ['--manifest', manifests[name]!];
const nothingStarted = /^✗ \/\S+\.yaml: 1 problem, nothing started: fix it, then check with `faas validate`$/;
const nothingApplied = /^✗ .*manifest\.yaml: 1 problem, nothing applied$/;
const redisDown = () => ({ REDIS_URL: `redis://127.0.0.1:${closed.redis}` });
const minioDown = () => ({ S3_ENDPOINT: `http://127.0.0.1:${closed.minio}` });
const apiDown = () => ({ FAAS_URL: `http://127.0.0.1:${closed.api}` });
const apiUp = () => ({ FAAS_URL: platform!.url });
const REDIS_DOWN =
  /^faas: Redis is not reachable at redis:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED 127\.0\.0\.1:\d+\): start it with `npm run services:up`, or set REDIS_URL$/;
const MINIO_DOWN =
  /^faas: storage \(MinIO\) is not reachable at http:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\): start it with `npm run services:up`, or set S3_ENDPOINT$/;
const NO_PLATFORM =
  /^faas: no platform answers at http:\/\/127\.0\.0\.1:\d+: start it with `faas up` \(or set FAAS_URL to where it runs\)$/;
const setting = (text: string) =>
  new RegExp(`^faas: invalid setting: ${text}: fix it, or unset it for the default`);

const SERVERS = ['up', 'api', 'worker'] as const;
const CLIENTS: Array<[string, string[]]> = [
  ['ls', ['ls']],
  ['invoke', ['invoke', 'echo', '-d', '{}']],
  ['logs', ['logs', 'echo.abc']],
  ['status', ['status', '--once']],
  ['dlq ls', ['dlq', 'ls']],
  ['dlq show', ['dlq', 'show', 'echo.abc']],
  ['dlq retry', ['dlq', 'retry', 'echo.abc']],
];

const rows: Row[] = [
  // Bad manifests: one problem each, then the summary.
  ...SERVERS.map((verb) => ({
    verb,
    why: 'a webhook on an admin route',
    args: () => [verb, ...M('status-hook')()],
    line: /manifest\.yaml:\d+:\d+: functions\.x\.triggers\[0\]\.webhook\.path: \/status is reserved for the platform's own route/,
    summary: nothingStarted,
  })),
  ...SERVERS.map((verb) => ({
    verb,
    why: 'a handler importing a package that is not installed',
    args: () => [verb, ...M('missing-package')()],
    line: /manifest\.yaml:4:5: functions\.hello\.handler: hello\/index\.js:1:17: Could not resolve "left-pad-\w+": the package is not installed: run `npm install left-pad-\w+`/,
    summary: nothingStarted,
  })),
  {
    verb: 'up',
    why: 'a handler with a syntax error',
    args: () => ['up', ...M('syntax')()],
    line: /functions\.hello\.handler: hello\/index\.js:1:\d+: Expected/,
    summary: nothingStarted,
  },
  {
    verb: 'up',
    why: 'a handler without its export',
    args: () => ['up', ...M('no-export')()],
    line: /functions\.hello\.handler: hello\/index\.js: no export named "handler" \(it exports main\)/,
    summary: nothingStarted,
  },
  {
    verb: 'up',
    why: 'no manifest file',
    args: () => ['up', '--manifest', join(dir, 'none.yaml')],
    line: /none\.yaml: cannot read .*none\.yaml: no such file$/,
    summary: nothingStarted,
  },
  {
    verb: 'validate',
    why: 'an unknown S3 event',
    args: () => ['validate', manifests['bogus-event']!],
    line: /manifest\.yaml:7:18: functions\.x\.triggers\[0\]\.events\[0\]: unknown S3 event "s3:Bogus:\*"; use one of s3:ObjectCreated:\*, /,
    summary: nothingApplied,
  },
  {
    verb: 'validate',
    why: 'a handler importing a package that is not installed',
    args: () => ['validate', manifests['missing-package']!],
    line: /manifest\.yaml:4:5: functions\.hello\.handler: hello\/index\.js:1:17: Could not resolve "left-pad-\w+"/,
    summary: nothingApplied,
  },
  {
    verb: 'validate',
    why: 'a handler without its export',
    args: () => ['validate', manifests['no-export']!],
    line: /functions\.hello\.handler: hello\/index\.js: no export named "handler"/,
    summary: nothingApplied,
  },
  {
    verb: 'schema',
    why: 'an argument it does not take',
    args: () => ['schema', 'extra'],
    line: /^error: too many arguments for 'schema'/,
  },
  // Bad input to a running platform.
  {
    verb: 'invoke',
    why: 'an event that is not JSON',
    args: () => ['invoke', 'echo', '-d', '{bad'],
    env: apiUp,
    line: /^faas: the event given with --data is not JSON \(.*\): pass JSON, like -d '\{"key":"value"\}'$/,
  },
  {
    verb: 'invoke',
    why: 'an unknown function',
    args: () => ['invoke', `nope-${SUFFIX}`],
    env: apiUp,
    line: /^faas: no function named nope-\w+: check the name or id \(`faas ls` lists the functions\)$/,
  },
  {
    verb: 'logs',
    why: 'an unknown invocation',
    args: () => ['logs', `echo.nope-${SUFFIX}`],
    env: apiUp,
    line: /^faas: no invocation echo\.nope-\w+: check the name or id/,
  },
  {
    verb: 'logs',
    why: 'following an unknown function',
    args: () => ['logs', '--follow', `nope-${SUFFIX}`],
    env: apiUp,
    line: /^faas: no function named nope-\w+: `faas ls` lists them$/,
  },
  {
    verb: 'dlq show',
    why: 'an unknown dead letter',
    args: () => ['dlq', 'show', `echo.nope-${SUFFIX}`],
    env: apiUp,
    line: /^faas: no dead letter echo\.nope-\w+: check the name or id/,
  },
  {
    verb: 'dlq ls',
    why: 'an unknown function',
    args: () => ['dlq', 'ls', '--function', `nope-${SUFFIX}`],
    env: apiUp,
    line: /^faas: no function named nope-\w+: check the name or id/,
  },
  {
    verb: 'dlq retry',
    why: 'neither an id nor --all',
    args: () => ['dlq', 'retry'],
    env: apiUp,
    line: /^faas: `faas dlq retry` needs a dead letter id or --all: `faas dlq ls` lists them$/,
  },
  {
    verb: 'status',
    why: 'an unknown option',
    args: () => ['status', '--bogus'],
    line: /^error: unknown option '--bogus'/,
  },
  {
    verb: 'status',
    why: 'an interval that is not a number',
    args: () => ['status', '--interval', 'soon'],
    env: apiUp,
    line: /^faas: --interval "soon" is not a refresh interval: give milliseconds, 100 or more$/,
  },
  {
    verb: 'ls',
    why: 'an argument it does not take',
    args: () => ['ls', 'extra'],
    line: /^error: too many arguments for 'ls'/,
  },
  {
    verb: 'up',
    why: 'a signed webhook whose secret is not set',
    args: () => ['up', ...M('unset-secret')()],
    line: /^faas: function x: webhook secret UNSET_HOOK_SECRET_[A-Z0-9]+ is not set in the API's environment \(set it where faas up or faas api runs\): nothing started$/,
  },
  {
    verb: 'up',
    why: 'its port taken, with a manifest that would replace the functions',
    args: () => ['up', ...M('other')()],
    env: () => ({ FAAS_PORT: String(platform!.port) }),
    line: /^faas: 127\.0\.0\.1:\d+ is in use: stop what listens there, or set FAAS_PORT$/,
  },
  {
    verb: 'api',
    why: 'its port taken',
    args: () => ['api', ...M('good')()],
    env: () => ({ FAAS_PORT: String(platform!.port) }),
    line: /^faas: 127\.0\.0\.1:\d+ is in use: stop what listens there, or set FAAS_PORT$/,
  },
  // Stopped services.
  ...SERVERS.map((verb) => ({
    verb,
    why: 'Redis stopped',
    args: () => [verb, ...M('good')()],
    env: redisDown,
    line: REDIS_DOWN,
  })),
  ...SERVERS.map((verb) => ({
    verb,
    why: 'MinIO stopped',
    args: () => [verb, ...M('good')()],
    env: minioDown,
    line: MINIO_DOWN,
  })),
  {
    verb: 'api',
    why: 'MinIO refusing the keys',
    args: () => ['api', ...M('good')()],
    env: () => ({ S3_SECRET_ACCESS_KEY: `wrong-${SUFFIX}` }),
    line: /^faas: storage at \S+ refused the credentials \(SignatureDoesNotMatch\): set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY to its keys$/,
  },
  {
    verb: 'worker',
    why: 'Docker stopped',
    args: () => ['worker', ...M('good')()],
    env: () => ({ DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}` }),
    line: /^faas: the Docker engine is not reachable \(connect ENOENT .*no-docker\.sock\): start it with `npm run services:up`, or set DOCKER_HOST$/,
  },
  {
    verb: 'worker',
    why: 'DOCKER_HOST=ssh://',
    args: () => ['worker', ...M('good')()],
    env: () => ({ DOCKER_HOST: 'ssh://ops@engine-host' }),
    line: /^faas: DOCKER_HOST=ssh:\/\/ops@engine-host: the platform does not speak to an engine over ssh: forward the engine's socket \(ssh -nNT -L \/tmp\/docker\.sock:\/var\/run\/docker\.sock ops@engine-host\) and set DOCKER_HOST=unix:\/\/\/tmp\/docker\.sock$/,
  },
  ...CLIENTS.map(([verb, args]) => ({
    verb,
    why: 'the platform unreachable',
    args: () => args,
    env: apiDown,
    line: NO_PLATFORM,
  })),
  // Bad settings.
  {
    verb: 'up',
    why: 'FAAS_PORT=abc',
    args: () => ['up', ...M('good')()],
    env: () => ({ FAAS_PORT: 'abc' }),
    line: setting('FAAS_PORT="abc" must be a whole number'),
  },
  {
    verb: 'api',
    why: 'REDIS_URL=nonsense',
    args: () => ['api', ...M('good')()],
    env: () => ({ REDIS_URL: 'nonsense' }),
    line: setting('REDIS_URL="nonsense" must be a URL such as redis://127\\.0\\.0\\.1:6379'),
  },
  {
    verb: 'worker',
    why: 'FAAS_BODY_LIMIT=-1',
    args: () => ['worker', ...M('good')()],
    env: () => ({ FAAS_BODY_LIMIT: '-1' }),
    line: setting('FAAS_BODY_LIMIT="-1" must be at least 1024'),
  },
  {
    verb: 'up',
    why: 'FAAS_HOST beyond loopback without a token',
    args: () => ['up', ...M('good')()],
    env: () => ({ FAAS_HOST: '0.0.0.0' }),
    line: /^faas: FAAS_HOST=0\.0\.0\.0 exposes the API beyond loopback: set FAAS_API_TOKEN too$/,
  },
  ...CLIENTS.map(([verb, args]) => ({
    verb,
    why: 'FAAS_PORT=abc',
    args: () => args,
    env: () => ({ FAAS_URL: '', FAAS_PORT: 'abc' }),
    line: /^faas: FAAS_PORT="abc" is not a port number: set it like 8080, or set FAAS_URL$/,
  })),
  ...CLIENTS.map(([verb, args]) => ({
    verb,
    why: 'FAAS_URL=nonsense',
    args: () => args,
    env: () => ({ FAAS_URL: 'nonsense' }),
    line: /^faas: FAAS_URL="nonsense" is not an http\(s\) URL: set it like http:\/\/127\.0\.0\.1:8080$/,
  })),
];

/** Handler files (hello/index.js) that do not build, by manifest name. */
const HANDLERS: Record<string, string> = {
  'missing-package': `import pad from 'left-pad-${SUFFIX}';\nexport const handler = async () => pad;\n`,
  syntax: 'export async function handler(event {\n  return event;\n}\n',
  'no-export': 'export async function main(event) { return event; }\n',
};

async function writeManifests(): Promise<void> {
  manifests.good = join(
    await writeManifestDir('version: 1\nfunctions:\n  echo:\n    handler: echo/index.handler\n', ['echo']),
    'manifest.yaml',
  );
  manifests.other = join(
    await writeManifestDir(`version: 1\nfunctions:\n  other-${SUFFIX}:\n    handler: echo/index.handler\n`, [
      'echo',
    ]),
    'manifest.yaml',
  );
  manifests['unset-secret'] = join(
    await writeManifestDir(
      `version: 1\nfunctions:\n  x:\n    handler: echo/index.handler\n    triggers:\n      - webhook: { path: /hooks/x-${SUFFIX}, secret: UNSET_HOOK_SECRET_${SUFFIX.toUpperCase()} }\n`,
      ['echo'],
    ),
    'manifest.yaml',
  );
  manifests['status-hook'] = join(
    await writeManifestDir(
      'version: 1\nfunctions:\n  x:\n    handler: echo/index.handler\n    triggers:\n      - webhook: { path: /status }\n',
      ['echo'],
    ),
    'manifest.yaml',
  );
  manifests['bogus-event'] = join(
    await writeManifestDir(
      'version: 1\nfunctions:\n  x:\n    handler: echo/index.handler\n    triggers:\n      - bucket: uploads\n        events: ["s3:Bogus:*"]\n',
      ['echo'],
    ),
    'manifest.yaml',
  );
  for (const [name, source] of Object.entries(HANDLERS)) {
    const d = await writeManifestDir(
      'version: 1\nfunctions:\n  hello:\n    handler: hello/index.handler\n',
      [],
    );
    await mkdir(join(d, 'hello'));
    await writeFile(join(d, 'hello', 'index.js'), source);
    manifests[name] = join(d, 'manifest.yaml');
  }
}

/** `faas api` on the good manifest: no containers needed, so it starts without Docker images. */
async function startApi(): Promise<{ child: ChildProcess; url: string; port: number }> {
  const port = await freePort();
  const child = runCli(['api', '--manifest', manifests.good!], {
    FAAS_PORT: String(port),
    FAAS_INSTANCE: `e${SUFFIX}`,
    FAAS_STATE_DIR: join(dir, 'state'),
    FAAS_LOG_LEVEL: 'warn',
  });
  let out = '';
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  child.stdout?.resume();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answered = await fetch(`${url}/functions`).then(
      (r) => r.ok,
      () => false,
    );
    if (answered) return { child, url, port };
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`faas api did not come up:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `tasks` with at most `limit` at once (two cores; each task is a Node process). */
async function pooled<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

let runs: Run[] = [];

describe('every CLI verb fails on bad input, a stopped service or a bad setting with one clear line', () => {
  beforeAll(async () => {
    (await requireRedis()).disconnect();
    (await requireMinio()).destroy();
    dir = await mkdtemp(join(tmpdir(), 'faas-cli-errors-'));
    await writeManifests();
    platform = await startApi();
    // Freed after the platform took its port, so none of them is the platform's.
    closed = { redis: await freePort(), minio: await freePort(), api: await freePort() };
    expect(Object.values(closed)).not.toContain(platform.port);
    runs = await pooled(
      rows.map((r) => () => faas(r.args(), r.env?.() ?? {})),
      6,
    );
  }, 120_000);

  afterAll(async () => {
    if (platform && platform.child.exitCode === null) {
      const exited = new Promise((r) => platform!.child.once('exit', r));
      platform.child.kill('SIGTERM');
      await exited;
    }
    const dirs = new Set([dir, ...Object.values(manifests).map((m) => join(m, '..'))]);
    await Promise.all([...dirs].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('a `faas up` refused for its port deployed and pruned nothing: the running functions are unchanged', async () => {
    const listed = (await (await fetch(`${platform!.url}/functions`)).json()) as unknown;
    const names = JSON.stringify(listed);
    expect(names).toContain('"echo"');
    expect(names).not.toContain(`other-${SUFFIX}`);
  });

  it('covers every verb', () => {
    const verbs = new Set(rows.map((r) => r.verb.split(' ')[0]));
    expect([...verbs].sort()).toEqual([
      'api',
      'dlq',
      'invoke',
      'logs',
      'ls',
      'schema',
      'status',
      'up',
      'validate',
      'worker',
    ]);
  });

  it.each(rows.map((r, i) => [`${r.verb}: ${r.why}`, i] as const))('%s', (_name, i) => {
    const row = rows[i]!;
    const run = runs[i]!;
    const shown = `stderr:\n${run.stderr}`;
    expect(run.code, shown).not.toBe(0);
    expect(run.code, shown).not.toBeNull();
    expect(run.stderr, shown).not.toMatch(/\n\s+at /);
    expect(run.stderr, shown).not.toMatch(/node:internal/);
    expect(run.lines, shown).toHaveLength(row.summary ? 2 : 1);
    expect(run.lines[0], shown).toMatch(row.line);
    if (row.summary) expect(run.lines[1], shown).toMatch(row.summary);
  });
});
