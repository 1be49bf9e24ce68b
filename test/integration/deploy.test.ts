/**
 * Deploys to a running platform (real Redis, MinIO and Docker; `faas` as child processes): new
 * versions under a steady load of sync invokes, two platform processes on one cluster, broken
 * deploys refused whole, rollback, removal and `faas up --watch`.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterOf,
  eventually,
  runCli,
  startPlatformProcess,
  writeManifestDir,
  type RunningPlatform,
} from '../helpers/platform.js';

const MANIFEST = `version: 1
functions:
  ver:
    handler: ver/index.handler
    timeout: 10s
    scale: { min: 0, max: 4 }
    triggers:
      - webhook: { path: /hooks/ver, method: GET, mode: sync }
`;

/** A handler that says which code it is (`mark`) and which version the platform loaded it as. */
function handler(mark: string): string {
  return `export async function handler(event, context) {
  return { mark: ${JSON.stringify(mark)}, fv: context.functionVersion };
}
`;
}

async function writeHandler(dir: string, mark: string, code = handler(mark)): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(dir, 'ver'), { recursive: true });
  await writeFile(join(dir, 'ver', 'index.mjs'), code);
}

/** Runs the CLI to its end: exit code, stdout and stderr. */
async function faas(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
  const child = runCli(args, env);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, out, err };
}

interface Answer {
  ok: boolean;
  status: number;
  mark?: string;
  fv?: string;
  id?: string;
  sentAt: number;
  at: number;
}

async function call(url: string): Promise<Answer> {
  const sentAt = Date.now();
  try {
    const res = await fetch(`${url}/functions/ver/invoke`, { method: 'POST', body: '{}' });
    const body = (await res.json()) as { mark?: string; fv?: string };
    return {
      ok: res.status === 200,
      status: res.status,
      mark: body.mark,
      fv: body.fv,
      id: res.headers.get('x-faas-invocation-id') ?? undefined,
      sentAt,
      at: Date.now(),
    };
  } catch {
    return { ok: false, status: 0, sentAt, at: Date.now() };
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

describe('deploys under load', () => {
  let p: RunningPlatform;
  let dir: string;
  const env = () => ({ FAAS_URL: p.url });

  beforeAll(async () => {
    dir = await writeManifestDir(MANIFEST, []);
    await writeHandler(dir, 'm0');
    // The default keeps one generic container warm; two cover a deploy's replacement starts.
    p = await startPlatformProcess(MANIFEST, [], { FAAS_PREWARM: '2' }, dir);
  }, 90_000);

  afterAll(async () => {
    await p?.stop();
  });

  it('switches 20 versions under steady sync load with no failed invocation', async () => {
    const answers: Answer[] = [];
    let loading = true;
    const loops = Array.from({ length: 4 }, async () => {
      while (loading) answers.push(await call(p.url));
    });
    await eventually('the first version answers', async () =>
      answers.some((a) => a.mark === 'm0') ? true : undefined,
    );
    const versionOf = new Map<string, number>([['m0', 1]]);
    const switches: number[] = [];
    for (let i = 1; i <= 20; i++) {
      const mark = `m${i}`;
      await writeHandler(dir, mark);
      const r = await faas(['deploy', '--manifest', join(dir, 'manifest.yaml')], env());
      expect(r.code, r.err).toBe(0);
      const line = /updated\s+ver\s+v(\d+)/.exec(r.out);
      expect(line, r.out).not.toBeNull();
      versionOf.set(mark, Number(line![1]));
      const deployed = Date.now();
      // Switched: a call sent after the deploy answered runs the new code.
      const first = await eventually(
        `version ${mark} serves`,
        async () => answers.find((a) => a.mark === mark && a.sentAt >= deployed),
        10_000,
      );
      switches.push(first.at - deployed);
    }
    loading = false;
    await Promise.all(loops);

    const failed = answers.filter((a) => !a.ok);
    expect(failed, JSON.stringify(failed.slice(0, 5))).toEqual([]);
    expect(answers.length).toBeGreaterThan(100);
    // Every answer came from the version the platform says ran it: the handler's own mark and
    // the version it was loaded as agree, and the record names that version.
    for (const a of answers) expect(Number(a.fv)).toBe(versionOf.get(a.mark as string));
    const sample = answers.filter((_, i) => i % Math.ceil(answers.length / 40) === 0);
    for (const a of sample) {
      const rec = (await (await fetch(`${p.url}/invocations/${a.id}`)).json()) as { version: number };
      expect(rec.version).toBe(versionOf.get(a.mark as string));
    }
    console.log(
      `deploy under load: ${answers.length} sync invokes, 0 failed; switch after the deploy answered: ` +
        `p50 ${percentile(switches, 50)} ms, max ${Math.max(...switches)} ms over ${switches.length} deploys`,
    );
    expect(percentile(switches, 50)).toBeLessThan(1000);
    // The old versions' containers drained and stopped: what is left is within the function's max.
    const pools = await eventually('old containers drained', async () => {
      const status = (await (await fetch(`${p.url}/status`)).json()) as {
        functions: Array<{ name: string; containers: Record<string, number> }>;
      };
      const c = status.functions.find((f) => f.name === 'ver')?.containers;
      return c && c.draining === 0 ? (c as { starting: number; idle: number; busy: number }) : undefined;
    });
    expect(pools.starting + pools.idle + pools.busy).toBeLessThanOrEqual(4);
  }, 240_000);

  it('lists versions and rolls back to the previous behaviour', async () => {
    const before = (await (await fetch(`${p.url}/functions/ver/versions`)).json()) as {
      current: number;
      versions: Array<{ version: number; hash: string; current: boolean }>;
    };
    expect(before.versions.length).toBeGreaterThanOrEqual(2);
    const current = before.current;
    const r = await faas(['rollback', 'ver'], env());
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`ver v${current - 1} is current (was v${current})`);
    const a = await call(p.url);
    expect(a.ok).toBe(true);
    expect(Number(a.fv)).toBe(current - 1);
    const to = await faas(['rollback', 'ver', '--to', String(current)], env());
    expect(to.code, to.err).toBe(0);
    expect(Number((await call(p.url)).fv)).toBe(current);
    const listed = await faas(['versions', 'ver'], env());
    expect(listed.out).toMatch(new RegExp(`^\\* v${current}\\s`, 'm'));
    const none = await faas(['rollback', 'ver', '--to', '999'], env());
    expect(none.code).toBe(1);
    expect(none.err).toContain('function ver has no version 999');
  }, 60_000);

  it('refuses broken deploys whole and changes nothing', async () => {
    const versions = async () =>
      ((await (await fetch(`${p.url}/functions/ver/versions`)).json()) as { versions: unknown[] }).versions
        .length;
    const count = await versions();
    const good = await call(p.url);
    const manifest = join(dir, 'manifest.yaml');

    await writeHandler(dir, 'x', 'export async function handler( {\n');
    const syntax = await faas(['deploy', '--manifest', manifest], env());
    expect(syntax.code).toBe(1);
    expect(syntax.err).toMatch(/ver\/index\.mjs:\d+:\d+: Expected identifier but found end of file/);
    expect(syntax.err).toMatch(/1 problem, nothing deployed: fix it/);
    expect(syntax.err).not.toMatch(/\n\s+at /);

    await writeHandler(dir, 'x', "import x from './missing.js';\nexport const handler = x;\n");
    const unresolved = await faas(['deploy', '--manifest', manifest], env());
    expect(unresolved.code).toBe(1);
    expect(unresolved.err).toContain('Could not resolve "./missing.js"');

    await writeHandler(dir, good.mark as string);
    await writeFile(manifest, MANIFEST.replace('timeout: 10s', 'timeout: often'));
    const invalid = await faas(['deploy', '--manifest', manifest], env());
    expect(invalid.code).toBe(1);
    expect(invalid.err).toContain('functions.ver.timeout');

    // The API validates on its own too: a manifest it cannot accept, and a grant on the code bucket.
    const direct = await fetch(`${p.url}/deployments`, {
      method: 'POST',
      body: JSON.stringify({ manifest: 'version: 1\nfunctions: { a: { handler: 1 } }\n', code: {} }),
    });
    expect(direct.status).toBe(400);
    expect(((await direct.json()) as { error: { code: string } }).error.code).toBe('invalid_manifest');
    const codeBucket = await fetch(`${p.url}/deployments`, {
      method: 'POST',
      body: JSON.stringify({
        manifest: MANIFEST.replace('timeout: 10s', 'timeout: 10s\n    storage: { read: [faas-code] }'),
        code: { ver: 'a'.repeat(64) },
      }),
    });
    expect(codeBucket.status).toBe(409);
    const refused = (await codeBucket.json()) as { error: { problems: string[] } };
    expect(refused.error.problems.join('\n')).toContain('bucket faas-code holds deployed code');
    expect(refused.error.problems.join('\n')).toContain('no code aaaaaaaaaaaa');
    // A signed webhook whose secret's variable this API process does not have: every request
    // would be refused, so the deploy is.
    const unsetSecret = await fetch(`${p.url}/deployments`, {
      method: 'POST',
      body: JSON.stringify({
        manifest: MANIFEST.replace('mode: sync }', 'mode: sync, secret: VER_UNSET_SECRET }'),
        code: { ver: 'a'.repeat(64) },
      }),
    });
    expect(unsetSecret.status).toBe(409);
    expect(((await unsetSecret.json()) as { error: { problems: string[] } }).error.problems).toEqual([
      "function ver: webhook secret VER_UNSET_SECRET is not set in the API's environment (set it where faas up or faas api runs)",
    ]);
    const mismatch = await fetch(`${p.url}/deployments/code/${'b'.repeat(64)}`, { method: 'PUT', body: 'x' });
    expect(mismatch.status).toBe(400);

    await writeFile(manifest, MANIFEST);
    expect(await versions()).toBe(count);
    const after = await call(p.url);
    expect(after).toMatchObject({ ok: true, mark: good.mark, fv: good.fv });
  }, 90_000);

  it('checks webhook paths under one lock: concurrent deploys and a rollback cannot take a path twice', async () => {
    const code = Buffer.from("export const handler = async () => 'p';\n");
    const hash = createHash('sha256').update(code).digest('hex');
    const put = await fetch(`${p.url}/deployments/code/${hash}`, { method: 'PUT', body: code });
    expect(put.status).toBe(201);
    const deploy = (name: string, path: string) =>
      fetch(`${p.url}/deployments`, {
        method: 'POST',
        body: JSON.stringify({
          manifest: `version: 1\nfunctions:\n  ${name}:\n    handler: ${name}/index.handler\n    triggers:\n      - webhook: { path: ${path} }\n`,
          code: { [name]: hash },
        }),
      });
    const names = ['lock-a', 'lock-b', 'lock-c', 'lock-d'];
    try {
      // Two at once, each claiming one path: one is deployed, the other refused.
      const race = await Promise.all([
        deploy('lock-c', '/hooks/lock-race'),
        deploy('lock-d', '/hooks/lock-race'),
      ]);
      expect(race.map((r) => r.status).sort()).toEqual([200, 409]);

      // A rollback to a version whose path another function took since is refused too.
      expect((await deploy('lock-a', '/hooks/lock-x')).status).toBe(200);
      expect((await deploy('lock-a', '/hooks/lock-y')).status).toBe(200);
      expect((await deploy('lock-b', '/hooks/lock-x')).status).toBe(200);
      const refused = await faas(['rollback', 'lock-a'], env());
      expect(refused.code).toBe(1);
      expect(refused.err.trim()).toBe(
        "faas: rollback of lock-a to v1 refused, nothing changed: function lock-a: webhook path /hooks/lock-x is already function lock-b's: change or remove the function that holds it, or roll back to another version (`faas versions lock-a`)",
      );
      const a = (await (await fetch(`${p.url}/functions/lock-a/versions`)).json()) as { current: number };
      expect(a.current).toBe(2);

      // The oldest version has nothing older: the fix names the versions, not the function.
      const oldest = await faas(['rollback', 'lock-b'], env());
      expect(oldest.err.trim()).toBe(
        'faas: function lock-b has no version older than 1 to roll back to: `faas versions lock-b` lists them',
      );
      // A removed function rolls back to its last version.
      expect((await fetch(`${p.url}/functions/lock-b`, { method: 'DELETE' })).status).toBe(200);
      const back = await faas(['rollback', 'lock-b'], env());
      expect(back.code, back.err).toBe(0);
      expect(back.out.trim()).toBe('lock-b v1 is current');
      // A version number is digits: 0x1 is none.
      const hex = await faas(['rollback', 'lock-b', '--to', '0x1'], env());
      expect(hex.err.trim()).toBe(
        'faas: --to 0x1 is not a version number: give one that `faas versions NAME` lists',
      );
    } finally {
      for (const n of names) await fetch(`${p.url}/functions/${n}`, { method: 'DELETE' });
    }
  }, 90_000);

  it("runs the host's first Python function, deployed after it started with Node.js ones only, in the Python image", async () => {
    const pyDir = await writeManifestDir(
      'version: 1\nfunctions:\n  late-py:\n    handler: py-echo/app.handler\n    runtime: python3.11\n    retry: { attempts: 1 }\n',
      ['py-echo'],
    );
    try {
      const deployed = await faas(['deploy', '--manifest', join(pyDir, 'manifest.yaml')], env());
      expect(deployed.code, deployed.err).toBe(0);
      const res = await fetch(`${p.url}/functions/late-py/invoke`, { method: 'POST', body: '{"n":1}' });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(await res.json()).toEqual({ echo: { n: 1 }, fn: 'late-py' });
    } finally {
      await fetch(`${p.url}/functions/late-py`, { method: 'DELETE' });
      await rm(pyDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('removes a function: its routes stop at once, and a rollback brings it back', async () => {
    const r = await faas(['rm', 'ver'], env());
    expect(r.code, r.err).toBe(0);
    expect((await fetch(`${p.url}/hooks/ver`)).status).toBe(404);
    expect((await call(p.url)).status).toBe(404);
    const ls = await faas(['ls'], env());
    expect(ls.out).not.toMatch(/^ver\s/m);
    const versions = (await (await fetch(`${p.url}/functions/ver/versions`)).json()) as {
      current: number | null;
      versions: Array<{ version: number }>;
    };
    expect(versions.current).toBeNull();
    const last = versions.versions.at(-1)!.version;
    expect((await faas(['rollback', 'ver', '--to', String(last)], env())).code).toBe(0);
    const back = await fetch(`${p.url}/hooks/ver`);
    expect(back.status).toBe(200);
    expect(((await back.json()) as { fv: string }).fv).toBe(String(last));
  }, 60_000);
});

describe('two platform processes on one cluster', () => {
  it('serves a deploy made through one on the other, which has no functions folder', async () => {
    const dir = await writeManifestDir(MANIFEST, []);
    await writeHandler(dir, 'a1');
    const first = await startPlatformProcess(MANIFEST, [], {}, dir);
    const empty = await mkdtemp(join(tmpdir(), 'faas-empty-'));
    // Only connection settings: the same cluster, no manifest, no functions folder.
    await writeFile(join(empty, 'manifest.yaml'), '');
    const second = await startPlatformProcess('', [], { FAAS_CLUSTER: clusterOf(dir) }, empty, 'up', [
      '--no-manifest',
    ]);
    try {
      expect((await call(second.url)).mark).toBe('a1');
      await writeHandler(dir, 'a2');
      const r = await faas(['deploy', '--manifest', join(dir, 'manifest.yaml')], { FAAS_URL: first.url });
      expect(r.code, r.err).toBe(0);
      // Within a second, both processes' APIs and workers run the new version.
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, i) => call(i % 2 ? first.url : second.url)),
      );
      expect(answers.map((a) => a.mark)).toEqual(answers.map(() => 'a2'));
      const ran = new Set<string>();
      for (let i = 0; i < 40 && ran.size < 2; i++) {
        const a = await call(second.url);
        const rec = (await (await fetch(`${second.url}/invocations/${a.id}`)).json()) as {
          container: string;
          version: number;
        };
        expect(rec.version).toBe(2);
        ran.add(rec.container.includes(second.instance) ? 'second' : 'first');
      }
      expect(ran.size).toBeGreaterThan(0);
      const ls = await faas(['ls'], { FAAS_URL: second.url });
      expect(ls.out).toMatch(/^ver\s+ver\/index\.handler\s.*\sv2\s+scale/m);
    } finally {
      await second.stop();
      await first.stop();
      await rm(empty, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('faas up --watch', () => {
  it('deploys a saved handler and keeps the last good version when a save is broken', async () => {
    const dir = await writeManifestDir(MANIFEST, []);
    await writeHandler(dir, 'w1');
    const p = await startPlatformProcess(MANIFEST, [], {}, dir, 'up', ['--watch']);
    try {
      expect((await call(p.url)).mark).toBe('w1');
      await writeHandler(dir, 'w2');
      await eventually('the saved handler answers', async () =>
        (await call(p.url)).mark === 'w2' ? true : undefined,
      );
      expect(p.output()).toMatch(/deploy: updated ver v2/);
      await writeHandler(dir, 'x', 'export async function handler( {\n');
      await eventually('the broken save is refused', async () =>
        p.output().includes('deploy refused') ? true : undefined,
      );
      expect(p.output()).toMatch(/ver\/index\.mjs:\d+:\d+: Expected identifier but found end of file/);
      const still = await call(p.url);
      expect(still).toMatchObject({ ok: true, mark: 'w2', fv: '2' });
      expect(await readFile(join(dir, 'manifest.yaml'), 'utf8')).toBe(MANIFEST);
    } finally {
      await p.stop();
    }
  }, 90_000);
});
