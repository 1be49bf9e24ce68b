/**
 * What keeps a Python function from running is refused before anything starts, as a manifest
 * problem at `functions.<name>.handler` naming the file and line: a syntax error, a handler the
 * module does not define, a requirement pip cannot install for the containers' platform. An
 * unchanged function is built once.
 */
import { mkdir, mkdtemp, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkHandlers } from '../../src/build/check.js';
import { ManifestError, type Problem } from '../../src/manifest/errors.js';
import { loadManifest } from '../../src/manifest/load.js';
import { Runtimes } from '../../src/runtimes/index.js';

let dir: string;
beforeEach(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'faas-pycheck-')));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function put(rel: string, text: string): Promise<void> {
  await mkdir(dirname(join(dir, rel)), { recursive: true });
  await writeFile(join(dir, rel), text);
}

async function problemsOf(files: Record<string, string>): Promise<Problem[]> {
  for (const [rel, text] of Object.entries(files)) await put(rel, text);
  await put(
    'manifest.yaml',
    'version: 1\nfunctions:\n  hello:\n    handler: hello/app.handler\n    runtime: python3.11\n',
  );
  try {
    await checkHandlers(
      await loadManifest(join(dir, 'manifest.yaml')),
      new Runtimes({ cacheDir: join(dir, 'cache') }),
    );
  } catch (e) {
    if (e instanceof ManifestError) return e.problems;
    throw e;
  }
  return [];
}

describe('checking Python functions', () => {
  it('accepts a handler and builds it once', async () => {
    expect(await problemsOf({ 'hello/app.py': 'def handler(event, context):\n    return 1\n' })).toEqual([]);
    const runtimes = new Runtimes({ cacheDir: join(dir, 'cache') });
    const spec = (await loadManifest(join(dir, 'manifest.yaml'))).functions.hello!;
    const first = await runtimes.codeDir(spec);
    expect(await runtimes.codeDir(spec)).toBe(first);
    expect((await readdir(first)).sort()).toEqual(['__pycache__', 'app.py']);
    expect(await readdir(join(dir, 'cache', 'python', 'code'))).toHaveLength(1);
  });

  it('reports a syntax error with its file and line', async () => {
    const problems = await problemsOf({
      'hello/app.py': 'def handler(event, context):\n    return (\n\nx = 1\n',
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      path: 'functions.hello.handler',
      message: expect.stringMatching(/^hello\/app\.py:\d+:\d+: SyntaxError: /),
    });
  });

  it('reports a module without the handler', async () => {
    const problems = await problemsOf({ 'hello/app.py': 'def other(event, context):\n    return 1\n' });
    expect(problems.map((p) => p.message)).toEqual([
      'hello/app.py: no function named "handler": define it, like `def handler(event, context):`, or fix the name after the dot in the manifest\'s handler',
    ]);
  });

  it('reports a requirement pip cannot install', async () => {
    const problems = await problemsOf({
      'hello/app.py': 'def handler(event, context):\n    return 1\n',
      'hello/requirements.txt': 'faas-no-such-package-zz9==0.0.1\n',
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(
      /^hello\/requirements\.txt: pip could not install it for python3\.11 on Linux: .*faas-no-such-package-zz9/,
    );
  }, 60_000);
});
