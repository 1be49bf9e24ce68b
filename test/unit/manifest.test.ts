import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManifestError, type Problem } from '../../src/manifest/errors.js';
import { manifestJsonSchema } from '../../src/manifest/json-schema.js';
import { loadManifest, parseManifest } from '../../src/manifest/load.js';
import { S3_EVENT_NAMES } from '../../src/manifest/rules.js';
import type { FunctionSpec } from '../../src/manifest/types.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const HANDLER = 'export async function handler(event, context) { return event; }\n';

let dir: string;

beforeEach(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'faas-manifest-')));
  await put('x/index.js');
  await put('y/index.js');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(rel: string, text = HANDLER): Promise<string> {
  const file = join(dir, rel);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
  return file;
}

function parse(yaml: string) {
  return parseManifest(yaml, join(dir, 'manifest.yaml'));
}

function problemsOf(yaml: string): Problem[] {
  try {
    parse(yaml);
  } catch (e) {
    if (e instanceof ManifestError) return e.problems;
    throw e;
  }
  throw new Error('the manifest was accepted');
}

/** A manifest with one function `x` (handler x/index.handler) and `settings` under it. */
function fn(settings = ''): string {
  const body = settings
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  return `version: 1\nfunctions:\n  x:\n    handler: x/index.handler\n${body}\n`;
}

describe('an invalid manifest is refused with the path of each problem', () => {
  const cases: Array<[string, string, string, string]> = [
    ['missing handler', 'version: 1\nfunctions:\n  x:\n    timeout: 1s\n', 'functions.x.handler', 'required'],
    [
      'trigger without bucket',
      fn('triggers:\n  - prefix: csv/'),
      'functions.x.triggers[0].bucket',
      'required',
    ],
    [
      'bucket name with capitals',
      fn('triggers:\n  - bucket: My_Uploads'),
      'functions.x.triggers[0].bucket',
      '"My_Uploads" is not a valid bucket name: use only lowercase',
    ],
    [
      'bucket name like an IP address',
      fn('storage: { read: [192.168.1.10] }'),
      'functions.x.storage.read[0]',
      'must not look like an IP address',
    ],
    ['unknown top-level field', `${fn()}extra: 1\n`, 'extra', 'unknown field "extra"'],
    [
      'unknown function field',
      fn('memmory: 1Gi'),
      'functions.x.memmory',
      'unknown field "memmory" (did you mean "memory"?)',
    ],
    [
      'unknown trigger field',
      fn('triggers:\n  - bucket: uploads\n    filter: csv/'),
      'functions.x.triggers[0].filter',
      'unknown field "filter"',
    ],
    [
      'unknown webhook field',
      fn('triggers:\n  - webhook: { path: /a, methods: [GET] }'),
      'functions.x.triggers[0].webhook.methods',
      'unknown field "methods" (did you mean "method"?)',
    ],
    ['duration without unit', fn('timeout: 30'), 'functions.x.timeout', 'must be a duration such as'],
    ['duration misspelled', fn('timeout: 30sec'), 'functions.x.timeout', 'not "30sec"'],
    ['timeout over 15m', fn('timeout: 16m'), 'functions.x.timeout', 'must be at most 15m'],
    ['memory unit', fn('memory: 256MB'), 'functions.x.memory', 'must be a size such as 128Mi'],
    ['memory too small', fn('memory: 16Mi'), 'functions.x.memory', 'must be at least 32Mi'],
    ['memory too large', fn('memory: 16Gi'), 'functions.x.memory', 'must be at most 8Gi'],
    ['cpu too large', fn('cpu: 32'), 'functions.x.cpu', 'must be at most 16'],
    [
      'cpu below what Docker runs',
      fn('cpu: 0.001'),
      'functions.x.cpu',
      "must be at least 0.01 (Docker's smallest CPU share)",
    ],
    ['cpu zero', fn('cpu: 0'), 'functions.x.cpu', 'must be at least 0.01'],
    [
      "EventBridge's rate()",
      fn("triggers:\n  - schedule: { cron: 'rate(5 minutes)' }"),
      'functions.x.triggers[0].schedule.cron',
      "is EventBridge's rate expression: write it as every: 5m instead of cron",
    ],
    [
      "EventBridge's rate() in days",
      fn("triggers:\n  - schedule: { cron: 'rate(1 day)' }"),
      'functions.x.triggers[0].schedule.cron',
      'write it as every: 24h instead of cron',
    ],
    [
      "EventBridge's cron()",
      fn("triggers:\n  - schedule: { cron: 'cron(0 12 * * ? *)' }"),
      'functions.x.triggers[0].schedule.cron',
      "is EventBridge's cron() form: give its fields without cron( )",
    ],
    [
      'scale min above max',
      fn('scale: { min: 5, max: 2 }'),
      'functions.x.scale.min',
      'must not exceed scale.max (2)',
    ],
    ['concurrency 0', fn('concurrency: 0'), 'functions.x.concurrency', 'must be at least 1'],
    ['fractional concurrency', fn('concurrency: 1.5'), 'functions.x.concurrency', 'whole number'],
    [
      'retry maxBackoff below backoff',
      fn('retry: { backoff: 10s, maxBackoff: 1s }'),
      'functions.x.retry.maxBackoff',
      'must be at least retry.backoff (10s)',
    ],
    [
      'uppercase function name',
      'version: 1\nfunctions:\n  CsvSummary:\n    handler: x/index.handler\n',
      'functions.CsvSummary',
      '"CsvSummary" is not a function name',
    ],
    [
      'function name with a dot',
      'version: 1\nfunctions:\n  csv.summary:\n    handler: x/index.handler\n',
      'functions["csv.summary"]',
      '(no dots)',
    ],
    [
      'handler file missing',
      'version: 1\nfunctions:\n  x:\n    handler: nope/index.handler\n',
      'functions.x.handler',
      'no handler file: looked for nope/index.js, nope/index.mjs, nope/index.ts',
    ],
    [
      'handler outside the folder',
      'version: 1\nfunctions:\n  x:\n    handler: ../x/index.handler\n',
      'functions.x.handler',
      "must stay inside the manifest's folder",
    ],
    [
      'absolute handler path',
      'version: 1\nfunctions:\n  x:\n    handler: /etc/passwd.handler\n',
      'functions.x.handler',
      "relative to the manifest's folder",
    ],
    [
      'handler with extension',
      'version: 1\nfunctions:\n  x:\n    handler: x/index.js.handler\n',
      'functions.x.handler',
      'leave out the extension: write x/index.handler',
    ],
    [
      'handler without export',
      'version: 1\nfunctions:\n  x:\n    handler: x/index\n',
      'functions.x.handler',
      'must be <file path without extension>.<export name>',
    ],
    [
      'webhook path without slash',
      fn('triggers:\n  - webhook: { path: hooks/csv }'),
      'functions.x.triggers[0].webhook.path',
      'must start with "/"',
    ],
    [
      'webhook path under the API',
      fn('triggers:\n  - webhook: { path: /functions/x }'),
      'functions.x.triggers[0].webhook.path',
      "/functions/x is reserved for the platform's own route /functions/:name",
    ],
    [
      'webhook path of an admin route',
      fn('triggers:\n  - webhook: { path: /status }'),
      'functions.x.triggers[0].webhook.path',
      "/status is reserved for the platform's own route: choose another path, like /hooks/status",
    ],
    [
      'webhook path of the invoke route',
      fn('triggers:\n  - webhook: { path: /functions/x/invoke }'),
      'functions.x.triggers[0].webhook.path',
      "/functions/x/invoke is reserved for the platform's own route /functions/:name/invoke",
    ],
    [
      'webhook path of the console',
      fn('triggers:\n  - webhook: { path: /ui }'),
      'functions.x.triggers[0].webhook.path',
      "/ui is reserved for the platform's own route",
    ],
    [
      'webhook path under the console',
      fn('triggers:\n  - webhook: { path: /ui/functions/x }'),
      'functions.x.triggers[0].webhook.path',
      "/ui/functions/x is reserved for the platform's own route /ui/*",
    ],
    [
      "webhook path of MinIO's event route",
      fn('triggers:\n  - webhook: { path: /minio/events }'),
      'functions.x.triggers[0].webhook.path',
      "/minio/events is reserved for the platform's own route",
    ],
    [
      'webhook path of a route in other case',
      fn('triggers:\n  - webhook: { path: /Healthz }'),
      'functions.x.triggers[0].webhook.path',
      "/Healthz is reserved for the platform's own route /healthz",
    ],
    [
      'webhook path with ..',
      fn('triggers:\n  - webhook: { path: /hooks/../metrics }'),
      'functions.x.triggers[0].webhook.path',
      'must not contain "." or ".." segments',
    ],
    [
      'webhook payload format given as a YAML number',
      fn('triggers:\n  - webhook: { path: /a, payload: 2.0 }'),
      'functions.x.triggers[0].webhook.payload',
      "must be '2.0' or '1.0'",
    ],
    [
      'webhook method',
      fn('triggers:\n  - webhook: { path: /a, method: [GET, FETCH] }'),
      'functions.x.triggers[0].webhook.method[1]',
      'must be one of: GET, POST, PUT, PATCH, DELETE',
    ],
    [
      'duplicate webhook path and method',
      `${fn('triggers:\n  - webhook: { path: /hooks/a, method: [GET, POST] }')}  y:\n    handler: y/index.handler\n    triggers:\n      - webhook: { path: /hooks/a }\n`,
      'functions.y.triggers[0].webhook.path',
      'POST /hooks/a is already used by functions.x.triggers[0]',
    ],
    [
      'secret given as its value',
      fn('triggers:\n  - webhook: { path: /a, secret: "s3cr3t!" }'),
      'functions.x.triggers[0].webhook.secret',
      'must be the NAME of the environment variable that holds the secret',
    ],
    [
      'signature without secret',
      fn('triggers:\n  - webhook: { path: /a, signature: github }'),
      'functions.x.triggers[0].webhook.signature',
      'needs secret',
    ],
    [
      'bucket and webhook in one trigger',
      fn('triggers:\n  - { bucket: uploads, webhook: { path: /a } }'),
      'functions.x.triggers[0]',
      'must be a bucket trigger',
    ],
    [
      'unknown event name',
      fn('triggers:\n  - bucket: uploads\n    events: ["s3:Bogus:*"]'),
      'functions.x.triggers[0].events[0]',
      'unknown S3 event "s3:Bogus:*"; use one of s3:ObjectCreated:*, s3:ObjectCreated:Put,',
    ],
    [
      'event name without its kind',
      fn('triggers:\n  - bucket: uploads\n    events: [s3:ObjectCreated]'),
      'functions.x.triggers[0].events[0]',
      'unknown S3 event "s3:ObjectCreated"; use one of',
    ],
    [
      'event name in the wrong case',
      fn('triggers:\n  - bucket: uploads\n    events: ["s3:objectcreated:put"]'),
      'functions.x.triggers[0].events[0]',
      '(did you mean "s3:ObjectCreated:Put"?)',
    ],
    [
      'event name without s3:',
      fn('triggers:\n  - bucket: uploads\n    events: ["s3:ObjectCreated:*", "ObjectRemoved:*"]'),
      'functions.x.triggers[0].events[1]',
      '(did you mean "s3:ObjectRemoved:*"?)',
    ],
    [
      'read events, which are not delivered',
      fn('triggers:\n  - bucket: uploads\n    events: ["s3:ObjectAccessed:*"]'),
      'functions.x.triggers[0].events[0]',
      '"s3:ObjectAccessed:*" is not delivered',
    ],
    ['network', fn('network: internet'), 'functions.x.network', 'must be one of: none, outbound'],
    [
      'reserved env name',
      fn('env: { FAAS_TOKEN: x }'),
      'functions.x.env.FAAS_TOKEN',
      'names starting with FAAS_, AWS_, LAMBDA_, _HANDLER or _X_AMZN_ are reserved',
    ],
    [
      "env name Lambda's runtime sets",
      fn('env: { AWS_REGION: eu-west-1 }'),
      'functions.x.env.AWS_REGION',
      'are reserved',
    ],
    [
      'Lambda task root',
      fn('env: { LAMBDA_TASK_ROOT: /x }'),
      'functions.x.env.LAMBDA_TASK_ROOT',
      'are reserved',
    ],
    ['handler variable', fn('env: { _HANDLER: x.y }'), 'functions.x.env._HANDLER', 'are reserved'],
    ['env value not a string', fn('env: { RETRIES: 3 }'), 'functions.x.env.RETRIES', 'quote it'],
    [
      'prefix grant without slash',
      fn('storage: { write: [summaries/out] }'),
      'functions.x.storage.write[0]',
      'must end with "/" (like summaries/out/)',
    ],
    [
      'prefix grant with ..',
      fn('storage: { write: ["summaries/../x/"] }'),
      'functions.x.storage.write[0]',
      'must not contain "." or ".." segments',
    ],
    ['version 2', 'version: 2\nfunctions: {}\n', 'version', 'must be 1'],
    ['no version', 'functions: {}\n', 'version', 'required'],
    ['no functions', 'version: 1\n', 'functions', 'required'],
    [
      'YAML syntax error',
      'version: 1\nfunctions:\n  x: { handler: a\n  y: 1\n',
      '',
      'YAML syntax error at line 4',
    ],
    [
      'duplicate key',
      'version: 1\nversion: 1\nfunctions: {}\n',
      '',
      'line 2, column 1: Map keys must be unique',
    ],
    ['empty file', '# nothing\n', '', 'the manifest is empty'],
    [
      '__proto__ as a key',
      'version: 1\nfunctions:\n  __proto__: { handler: x/index.handler }\n',
      'functions.__proto__',
      'the key "__proto__" is not allowed',
    ],
    ['function without settings', 'version: 1\nfunctions:\n  x:\n', 'functions.x', 'must not be empty'],
    [
      'two YAML documents',
      `${fn()}---\nversion: 1\n`,
      '',
      'a manifest is one YAML document, and a second one starts at line 6, column 1: remove the `---` between them',
    ],
    [
      'a YAML bomb',
      `version: 1\nx-a: &a [x, x, x, x, x, x, x, x, x, x]\n${['b', 'c', 'd', 'e', 'f']
        .map((k, i) => `x-${k}: &${k} [${Array(10).fill(`*${'abcdef'[i]}`).join(', ')}]`)
        .join('\n')}\nfunctions: {}\n`,
      '',
      'YAML error: its aliases expand to more than 10000 copies of anchored values: write the values out instead of nesting aliases',
    ],
  ];

  it.each(cases)('%s', (_name, yaml, path, message) => {
    const problems = problemsOf(yaml);
    expect(problems).toContainEqual(
      expect.objectContaining({ path, message: expect.stringContaining(message) }),
    );
  });

  it('never repeats a secret written where its name belongs', () => {
    const [problem] = problemsOf(fn('triggers:\n  - webhook: { path: /a, secret: "s3cr3t!" }'));
    expect(problem?.message).not.toContain('s3cr3t!');
  });

  it('reports every problem at once, one per line, with positions', () => {
    const error = (() => {
      try {
        parse(fn('timeout: 1y\nconcurrency: 0\nbogus: 1\ntriggers:\n  - prefix: csv/'));
      } catch (e) {
        return e as ManifestError;
      }
    })();
    expect(error).toBeInstanceOf(ManifestError);
    expect(error?.message.split('\n')).toEqual([
      'functions.x.timeout: must be a duration such as 500ms, 30s, 1m or 1h, not "1y"',
      'functions.x.concurrency: must be at least 1',
      'functions.x.bogus: unknown field "bogus"',
      'functions.x.triggers[0].bucket: required',
    ]);
    expect(error?.problems[0]).toMatchObject({ line: 5, column: 5 });
    expect(error?.problems[3]).toMatchObject({ line: 9, column: 9 });
  });

  it('reports schema problems and missing handler files together', () => {
    const problems = problemsOf(
      'version: 1\nfunctions:\n  a:\n    handler: a/index.handler\n  b:\n    handler: x/index.handler\n    cpu: 0\n',
    );
    expect(problems.map((p) => p.path)).toEqual(['functions.a.handler', 'functions.b.cpu']);
  });
});

describe('a valid manifest', () => {
  const defaults: Omit<FunctionSpec, 'name' | 'handler' | 'handlerFile'> = {
    exportName: 'handler',
    runtime: 'node20',
    timeoutMs: 30_000,
    memoryBytes: 128 * 2 ** 20,
    cpu: 1,
    concurrency: 1,
    scale: { min: 0, max: 10, idleTimeoutMs: 60_000 },
    retry: { attempts: 3, backoffMs: 1000, maxBackoffMs: 60_000 },
    env: {},
    storage: { read: [], write: [] },
    network: 'none',
    triggers: [],
  };

  it('gets every default filled', () => {
    const manifest = parse(fn());
    expect(manifest).toEqual({
      version: 1,
      file: join(dir, 'manifest.yaml'),
      dir,
      functions: {
        x: { ...defaults, name: 'x', handler: 'x/index.handler', handlerFile: join(dir, 'x/index.js') },
      },
    });
  });

  it('takes one anchor merged into many functions', () => {
    const fns = Array.from(
      { length: 300 },
      (_, i) => `  f${i}:\n    <<: *defaults\n    handler: x/index.handler\n`,
    );
    const manifest = parse(`version: 1\nx-defaults: &defaults\n  timeout: 5s\nfunctions:\n${fns.join('')}`);
    expect(Object.keys(manifest.functions)).toHaveLength(300);
    expect(manifest.functions.f299?.timeoutMs).toBe(5000);
  });

  it('takes YAML merge keys, as serverless.yml and compose files use them', () => {
    const manifest = parse(
      `version: 1\nx-defaults: &defaults\n  timeout: 5s\n  memory: 256Mi\nfunctions:\n  x:\n    <<: *defaults\n    handler: x/index.handler\n    memory: 512Mi\n`,
    );
    expect(manifest.functions.x).toMatchObject({ timeoutMs: 5000, memoryBytes: 512 * 2 ** 20 });
  });

  it("normalizes DESIGN.md's example", async () => {
    await put('csv-summary/index.ts');
    const manifest = parse(`version: 1
functions:
  csv-summary:
    handler: csv-summary/index.handler
    runtime: node20
    timeout: 30s
    memory: 256Mi
    cpu: 0.5
    concurrency: 1
    scale: { min: 0, max: 10, idleTimeout: 60s }
    retry: { attempts: 3, backoff: 1s, maxBackoff: 1m }
    env: { LEVEL: info }
    storage: { read: [uploads], write: [summaries, archive/csv/] }
    network: none
    triggers:
      - bucket: uploads
        events: ["s3:ObjectCreated:*"]
        prefix: csv/
        suffix: .csv
      - webhook:
          path: /hooks/csv
          method: [post, get]
          secret: CSV_HOOK_SECRET
          mode: sync
          idempotencyHeader: X-Delivery
          signature: github
          payload: '1.0'
      - bucket: archive
      - webhook: { path: /hooks/csv/ping }
`);
    expect(manifest.functions['csv-summary']).toEqual({
      ...defaults,
      name: 'csv-summary',
      handler: 'csv-summary/index.handler',
      handlerFile: join(dir, 'csv-summary/index.ts'),
      memoryBytes: 256 * 2 ** 20,
      cpu: 0.5,
      env: { LEVEL: 'info' },
      storage: {
        read: [{ bucket: 'uploads', prefix: '' }],
        write: [
          { bucket: 'summaries', prefix: '' },
          { bucket: 'archive', prefix: 'csv/' },
        ],
      },
      triggers: [
        { type: 'bucket', bucket: 'uploads', events: ['s3:ObjectCreated:*'], prefix: 'csv/', suffix: '.csv' },
        {
          type: 'webhook',
          path: '/hooks/csv',
          methods: ['POST', 'GET'],
          secret: 'CSV_HOOK_SECRET',
          mode: 'sync',
          idempotencyHeader: 'X-Delivery',
          signature: 'github',
          payload: '1.0',
        },
        { type: 'bucket', bucket: 'archive', events: ['s3:ObjectCreated:*'], prefix: '', suffix: '' },
        { type: 'webhook', path: '/hooks/csv/ping', methods: ['POST'], mode: 'async', payload: '2.0' },
      ],
    });
  });

  it('accepts every S3 event name the platform delivers', () => {
    const events = S3_EVENT_NAMES.map((e) => JSON.stringify(e)).join(', ');
    const spec = parse(fn(`triggers:\n  - bucket: uploads\n    events: [${events}]`)).functions.x;
    expect(spec?.triggers[0]).toMatchObject({ events: [...S3_EVENT_NAMES] });
  });

  it('may declare no functions', () => {
    expect(parse('version: 1\nfunctions: {}\n').functions).toEqual({});
  });

  it('converts durations and sizes', () => {
    const spec = parse(fn('timeout: 500ms\nmemory: 1.5Gi\nretry: { backoff: 0ms, maxBackoff: 2h }')).functions
      .x;
    expect(spec).toMatchObject({ timeoutMs: 500, memoryBytes: 1.5 * 2 ** 30 });
    expect(spec?.retry).toEqual({ attempts: 3, backoffMs: 0, maxBackoffMs: 7_200_000 });
    expect(parse(fn('memory: 512M')).functions.x?.memoryBytes).toBe(512e6);
  });
});

describe('handler files', () => {
  const handlerFile = () =>
    parse('version: 1\nfunctions:\n  h:\n    handler: h/main.run\n').functions.h?.handlerFile;

  it('are looked up as .js, then .mjs, then .ts', async () => {
    await put('h/main.ts');
    expect(handlerFile()).toBe(join(dir, 'h/main.ts'));
    await put('h/main.mjs');
    expect(handlerFile()).toBe(join(dir, 'h/main.mjs'));
    await put('h/main.js');
    expect(handlerFile()).toBe(join(dir, 'h/main.js'));
  });

  it('are not .cjs files or folders', async () => {
    await put('h/main.cjs');
    await mkdir(join(dir, 'h/main.js'));
    expect(() => handlerFile()).toThrow(/functions\.h\.handler: no handler file/);
  });

  it('may be symlinks inside the folder, never outside it', async () => {
    await put('shared/impl.js');
    await mkdir(join(dir, 'h'));
    await symlink(join(dir, 'shared/impl.js'), join(dir, 'h/main.js'));
    expect(handlerFile()).toBe(join(dir, 'shared/impl.js'));

    const outside = await mkdtemp(join(tmpdir(), 'faas-outside-'));
    try {
      await writeFile(join(outside, 'evil.js'), HANDLER);
      await symlink(outside, join(dir, 'escape'));
      expect(() => parse('version: 1\nfunctions:\n  h:\n    handler: escape/evil.run\n')).toThrow(
        /functions\.h\.handler: escape\/evil\.js resolves to .*, outside the manifest's folder/,
      );
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe('loadManifest', () => {
  it('reads the file and resolves handlers beside it', async () => {
    const file = await put('manifest.yaml', fn());
    expect((await loadManifest(file)).functions.x?.handlerFile).toBe(join(dir, 'x/index.js'));
  });

  it('refuses a missing file with a ManifestError', async () => {
    await expect(loadManifest(join(dir, 'none.yaml'))).rejects.toThrow(
      /cannot read .*none\.yaml: no such file/,
    );
  });
});

describe('the published JSON Schema', () => {
  it('is the one generated from the zod schema (run `node bin/faas.js schema > schema/manifest.schema.json`)', async () => {
    const committed = await readFile(join(root, 'schema/manifest.schema.json'), 'utf8');
    expect(committed).toBe(`${JSON.stringify(manifestJsonSchema(), null, 2)}\n`);
  });

  it('leaves fields with defaults optional', () => {
    const schema = manifestJsonSchema() as {
      properties: { functions: { additionalProperties: { required: string[] } } };
    };
    expect(schema.properties.functions.additionalProperties.required).toEqual(['handler']);
  });
});

// Runs the built CLI: `npm test` builds before vitest.
describe('faas validate', () => {
  const faas = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [join(root, 'bin/faas.js'), ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, FAAS_MANIFEST: '', ...env },
    });

  it('exits 1 and names each field that is wrong', async () => {
    await put('bad.yaml', fn('timeout: soon\ntriggers:\n  - prefix: csv/'));
    const run = faas(['validate', 'bad.yaml']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('bad.yaml:5:5: functions.x.timeout: must be a duration');
    expect(run.stderr).toContain('bad.yaml:7:9: functions.x.triggers[0].bucket: required');
    expect(run.stdout).toBe('');
  });

  it('prints the functions of a valid manifest, found through --manifest or FAAS_MANIFEST', async () => {
    await put('ok.yaml', `${fn()}  y:\n    handler: y/index.handler\n`);
    const byOption = faas(['--manifest', 'ok.yaml', 'validate']);
    expect(byOption.status).toBe(0);
    expect(byOption.stdout).toBe('✓ ok.yaml: 2 functions (x, y)\n');
    const byEnv = faas(['validate'], { FAAS_MANIFEST: 'ok.yaml' });
    expect(byEnv.stdout).toBe('✓ ok.yaml: 2 functions (x, y)\n');
  });

  it('prints the JSON Schema', () => {
    const run = faas(['schema']);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(manifestJsonSchema());
  });
});
