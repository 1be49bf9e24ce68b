/**
 * The runtime plug-in point's pure parts: how FAAS_PREWARM divides between runtimes, where a
 * Python function's code folder is, and that packing a built folder gives the same bytes each time.
 */
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveHandler } from '../../src/manifest/handler.js';
import { dividePrewarm } from '../../src/runtimes/prewarm.js';
import { pythonRoot } from '../../src/runtimes/python/build.js';
import { packDir, unpackDir } from '../../src/runtimes/tar.js';
import { codeHash } from '../../src/deploy/code-store.js';

describe('dividePrewarm', () => {
  it.each([
    [1, [], { node20: 1, 'python3.11': 0 }],
    [2, ['node20'], { node20: 2, 'python3.11': 0 }],
    [2, ['python3.11'], { node20: 0, 'python3.11': 2 }],
    [1, ['node20', 'python3.11'], { node20: 1, 'python3.11': 0 }],
    [2, ['node20', 'python3.11'], { node20: 1, 'python3.11': 1 }],
    [3, ['node20', 'python3.11', 'python3.11'], { node20: 1, 'python3.11': 2 }],
    [4, ['node20', 'node20', 'node20', 'python3.11'], { node20: 3, 'python3.11': 1 }],
    [0, ['node20', 'python3.11'], { node20: 0, 'python3.11': 0 }],
  ] as const)('%i among %j', (total, used, expected) => {
    expect(dividePrewarm(total, used)).toEqual(expected);
  });
});

describe('pythonRoot', () => {
  it.each([
    ['csv-stats/app.handler', '/m/csv-stats/app.py', '/m/csv-stats'],
    ['a/b/app.handler', '/m/a/b/app.py', '/m/a'],
  ])('%s', (handler, handlerFile, root) => {
    expect(pythonRoot({ handler, handlerFile })).toBe(root);
  });
});

describe('Python handlers in the manifest', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faas-rt-'));
    await mkdir(join(dir, 'fn'));
    await writeFile(join(dir, 'fn', 'app.py'), 'def handler(event, context):\n    return 1\n');
    await writeFile(join(dir, 'top.py'), '');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('finds a .py file for python3.11 and refuses one outside a folder', () => {
    expect(resolveHandler(dir, 'fn/app.handler', 'python3.11')).toMatchObject({ exportName: 'handler' });
    expect(resolveHandler(dir, 'fn/app.handler', 'node20')).toEqual({
      problem: `no handler file: looked for fn/app.js, fn/app.mjs, fn/app.ts in ${dir}`,
    });
    expect(resolveHandler(dir, 'top.handler', 'python3.11')).toEqual({
      problem:
        'a Python handler lives in a folder of its own: move top.py into one and write <folder>/top.handler',
    });
  });
});

describe('packDir', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faas-pack-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('gives the same bytes for the same content, whatever the times, and unpacks to the same files', async () => {
    const a = join(dir, 'a');
    await mkdir(join(a, 'pkg'), { recursive: true });
    await writeFile(join(a, 'app.py'), 'x = 1\n');
    await writeFile(join(a, 'pkg', '__init__.py'), '');
    const first = await packDir(a);
    await utimes(join(a, 'app.py'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(codeHash(await packDir(a))).toBe(codeHash(first));
    const b = join(dir, 'b');
    await mkdir(b);
    await unpackDir(first, b);
    expect(await readFile(join(b, 'app.py'), 'utf8')).toBe('x = 1\n');
    expect(codeHash(await packDir(b))).toBe(codeHash(first));
  });
});
