/**
 * `checkHandlers` bundles each handler as the workers do and reports what would stop it from
 * running as a manifest problem at `functions.<name>.handler`, naming the file and line.
 */
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BundleError, Bundler } from '../../src/build/bundle.js';
import { checkHandlers } from '../../src/build/check.js';
import { ManifestError, type Problem } from '../../src/manifest/errors.js';
import { loadManifest } from '../../src/manifest/load.js';
import { Runtimes } from '../../src/runtimes/index.js';

const runtimes = () => new Runtimes({ cacheDir: join(dir, 'cache') });

let dir: string;

beforeEach(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'faas-check-')));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(rel: string, text: string): Promise<void> {
  await mkdir(dirname(join(dir, rel)), { recursive: true });
  await writeFile(join(dir, rel), text);
}

/** The problems of a manifest with one function `hello` whose handler file is `source`. */
async function problemsOf(source: string, handler = 'hello/index.handler', ext = 'js'): Promise<Problem[]> {
  await put(`hello/index.${ext}`, source);
  await put('manifest.yaml', `version: 1\nfunctions:\n  hello:\n    handler: ${handler}\n`);
  try {
    await checkHandlers(await loadManifest(join(dir, 'manifest.yaml')), runtimes());
  } catch (e) {
    if (e instanceof ManifestError) return e.problems;
    throw e;
  }
  return [];
}

describe('a handler that cannot run is refused at functions.<name>.handler, with its file and line', () => {
  const cases: Array<[string, string, string]> = [
    [
      'an import of a package that is not installed',
      "import pad from 'left-pad-not-installed';\nexport async function handler() { return pad; }\n",
      'hello/index.js:1:17: Could not resolve "left-pad-not-installed": the package is not installed: run `npm install left-pad-not-installed`',
    ],
    [
      'an import of a scoped package subpath',
      "import x from '@nope/pkg/sub.js';\nexport const handler = async () => x;\n",
      'run `npm install @nope/pkg`',
    ],
    [
      'an import of a file that does not exist',
      "export async function handler() { return 1; }\nimport { x } from './missing.js';\n",
      'hello/index.js:2:19: Could not resolve "./missing.js": no such file: fix the path',
    ],
    [
      'a syntax error',
      'export async function handler(event {\n  return event;\n}\n',
      'hello/index.js:1:37: Expected ")" but found "{"',
    ],
    [
      'a missing export',
      'export async function main(event) { return event; }\n',
      'hello/index.js: no export named "handler" (it exports main): export it',
    ],
    ['a module that exports nothing', 'console.log(1);\n', 'no export named "handler" (it exports nothing)'],
  ];

  it.each(cases)('%s', async (_what, source, message) => {
    const problems = await problemsOf(source);
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'functions.hello.handler',
        message: expect.stringContaining(message),
        line: 4,
        column: 5,
      }),
    ]);
  });

  it('names the imported file where the error is, not the handler', async () => {
    await put('hello/lib.js', 'export const x = ;\n');
    const [problem] = await problemsOf(
      "import { x } from './lib.js';\nexport const handler = async () => x;\n",
    );
    expect(problem?.message).toMatch(/^hello\/lib\.js:1:18: Unexpected ";"/);
  });

  it('reports every function with a problem, each at its own path', async () => {
    await put('a/index.js', 'export const handler = async () => 1;\n');
    await put('b/index.js', 'export const nope = 1;\n');
    await put('c/index.ts', 'export const handler = async (: number) => 1;\n');
    await put(
      'manifest.yaml',
      'version: 1\nfunctions:\n  a:\n    handler: a/index.handler\n  b:\n    handler: b/index.handler\n  c:\n    handler: c/index.handler\n',
    );
    const error = await checkHandlers(await loadManifest(join(dir, 'manifest.yaml')), runtimes()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).problems.map((p) => [p.path, p.line])).toEqual([
      ['functions.b.handler', 6],
      ['functions.c.handler', 8],
    ]);
  });

  it('accepts a TypeScript handler, a CommonJS handler and a default export (the runtime looks inside)', async () => {
    expect(
      await problemsOf(
        'export const handler = async (e: unknown): Promise<unknown> => e;\n',
        undefined,
        'ts',
      ),
    ).toEqual([]);
    await rm(join(dir, 'hello'), { recursive: true });
    expect(await problemsOf('exports.handler = async (e) => e;\n')).toEqual([]);
    expect(await problemsOf('export default { handler: async (e) => e };\n')).toEqual([]);
  });
});

describe('the Bundler', () => {
  it('refuses a missing export on every call, not only the first (bundles are cached per file)', async () => {
    await put('two/index.js', 'export async function handler() { return 1; }\n');
    await put(
      'manifest.yaml',
      'version: 1\nfunctions:\n  good:\n    handler: two/index.handler\n  bad:\n    handler: two/index.other\n',
    );
    const { functions } = await loadManifest(join(dir, 'manifest.yaml'));
    const bundler = new Bundler();
    await expect(bundler.code(functions.good!)).resolves.toContain('handler');
    await expect(bundler.code(functions.bad!)).rejects.toBeInstanceOf(BundleError);
    await expect(bundler.code(functions.bad!)).rejects.toThrow(/function bad: .*no export named "other"/);
  });

  it('gives a one-line message', async () => {
    await put(
      'x/index.js',
      "import a from 'nope-a';\nimport b from 'nope-b';\nexport const handler = () => a + b;\n",
    );
    await put('manifest.yaml', 'version: 1\nfunctions:\n  x:\n    handler: x/index.handler\n');
    const { functions } = await loadManifest(join(dir, 'manifest.yaml'));
    const error = await new Bundler().code(functions.x!).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(BundleError);
    expect((error as Error).message).not.toContain('\n');
    expect((error as Error).message).toMatch(/nope-a.*; .*nope-b/);
  });
});
