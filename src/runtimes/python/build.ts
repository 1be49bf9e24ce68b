import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FunctionSpec } from '../../manifest/types.js';
import { BundleError, type CodeProblem } from '../../build/bundle.js';
import { linkTree } from '../../util/link-tree.js';

/** Largest function with its dependencies, unpacked: Lambda's limit. */
export const MAX_PYTHON_CODE_BYTES = 250 * 1024 * 1024;

/** Folders never part of a function's code. */
const SKIP = new Set([
  '__pycache__',
  '.git',
  '.venv',
  'venv',
  'node_modules',
  '.mypy_cache',
  '.pytest_cache',
]);

/** Bumped when what a build produces changes, so older cached builds are not reused. */
const BUILD_VERSION = '1';

const CHECK_SCRIPT = fileURLToPath(new URL('./check.py', import.meta.url));

/** The wheels pip may pick: CPython 3.11 on the containers' platform (glibc, this machine's CPU). */
function pipPlatformArgs(): string[] {
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const platforms = ['manylinux2014', 'manylinux_2_28', 'manylinux_2_34'].map((p) => `${p}_${arch}`);
  return [
    ...platforms.flatMap((p) => ['--platform', p]),
    '--implementation',
    'cp',
    '--python-version',
    '3.11',
    '--only-binary=:all:',
  ];
}

export interface PythonBuildOptions {
  /** The host's Python 3.11 (pip and the compile check). @defaultValue 'python3.11' */
  python?: string;
  /** Where built code and installed dependencies are kept (`<cacheDir>/python`). */
  cacheDir: string;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Source files of a function folder, relative and sorted, without caches and environments. */
async function sourceFiles(root: string, sub = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(join(root, sub), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) out.push(...(await sourceFiles(root, rel)));
    } else if (e.isFile() && !e.name.endsWith('.pyc')) out.push(rel);
  }
  return out;
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

/**
 * The folder a Python handler's code lives in: the first folder of its path under the manifest
 * (`csv-stats/app.handler` → `<manifest dir>/csv-stats`), mounted as /var/task.
 * @example pythonRoot({ handler: 'a/b/app.handler', handlerFile: '/m/a/b/app.py' }) // '/m/a'
 */
export function pythonRoot(spec: Pick<FunctionSpec, 'handler' | 'handlerFile'>): string {
  const base = spec.handler.slice(0, spec.handler.lastIndexOf('.'));
  let root = spec.handlerFile;
  for (let i = 0; i < base.split('/').length - 1; i++) root = dirname(root);
  return root;
}

/**
 * Builds Python functions: the handler's folder plus its `requirements.txt` installed for the
 * containers' platform (pip, binary wheels), byte-compiled, in a folder under the cache named by
 * the hash of everything that went in. Dependencies are installed once per requirements file
 * content; an unchanged function costs one hash of its sources.
 * @example const dir = await new PythonBuilder({ cacheDir }).dir(spec); // .../python/code/<sha256>
 */
export class PythonBuilder {
  private readonly python: string;
  private readonly root: string;
  private readonly building = new Map<string, Promise<string>>();

  constructor(options: PythonBuildOptions) {
    this.python = options.python ?? 'python3.11';
    this.root = join(options.cacheDir, 'python');
  }

  /**
   * The host path of the function's built code and dependencies (what the container sees at
   * /var/task). @throws BundleError naming the file, line, or requirement to fix.
   */
  async dir(spec: FunctionSpec): Promise<string> {
    const src = pythonRoot(spec);
    const files = await sourceFiles(src);
    const hash = createHash('sha256').update(`faas-python-build ${BUILD_VERSION}\n${spec.handler}\n`);
    for (const f of files) {
      const s = await stat(join(src, f));
      hash.update(`${f}\0${s.mode & 0o111 ? 'x' : '-'}\0`).update(await readFile(join(src, f)));
    }
    const key = hash.digest('hex');
    const out = join(this.root, 'code', key);
    let built = this.building.get(key);
    if (!built) {
      built = this.build(spec, src, files, out);
      this.building.set(key, built);
      built.catch(() => this.building.delete(key));
    }
    return built;
  }

  private async build(spec: FunctionSpec, src: string, files: string[], out: string): Promise<string> {
    if (await stat(out).catch(() => undefined)) return out;
    const tmp = `${out}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(tmp, { recursive: true, mode: 0o755 });
      if (files.includes('requirements.txt')) await linkTree(await this.deps(spec, src), tmp);
      for (const f of files) {
        await mkdir(dirname(join(tmp, f)), { recursive: true, mode: 0o755 });
        // Copied, not linked: the function's own files may change after the build.
        await rm(join(tmp, f), { force: true });
        await copyFile(join(src, f), join(tmp, f));
      }
      await run('chmod', ['-R', 'u+w,a+rX', tmp]);
      const handlerFile = relative(src, spec.handlerFile);
      const checked = await run(this.python, [CHECK_SCRIPT, tmp, handlerFile, spec.exportName]);
      if (checked.code !== 0)
        throw new Error(`${this.python} could not check the code: ${checked.stderr.trim()}`);
      const problems = JSON.parse(checked.stdout) as Array<Omit<CodeProblem, 'file'> & { file?: string }>;
      if (problems.length > 0) {
        throw new BundleError(
          spec.name,
          problems.map((p) => ({ ...p, file: p.file === undefined ? undefined : join(src, p.file) })),
        );
      }
      const bytes = await treeBytes(tmp);
      if (bytes > MAX_PYTHON_CODE_BYTES) {
        throw new BundleError(spec.name, [
          {
            file: spec.handlerFile,
            message: `with its dependencies it is ${Math.round(bytes / 1048576)} MB unpacked; the limit is ${MAX_PYTHON_CODE_BYTES / 1048576} MB: depend on less`,
          },
        ]);
      }
      await rename(tmp, out).catch(async (err: NodeJS.ErrnoException) => {
        // Another process built the same code at the same time: theirs is as good.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
        await rm(tmp, { recursive: true, force: true });
      });
      return out;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      if (err instanceof BundleError) throw err;
      throw new BundleError(spec.name, [{ file: spec.handlerFile, message: (err as Error).message }]);
    }
  }

  /** The function's requirements, installed once per file content and platform. */
  private async deps(spec: FunctionSpec, src: string): Promise<string> {
    const requirements = join(src, 'requirements.txt');
    const text = await readFile(requirements);
    const platform = pipPlatformArgs().join(' ');
    const key = createHash('sha256').update(`${platform}\n`).update(text).digest('hex');
    const out = join(this.root, 'deps', key);
    if (await stat(out).catch(() => undefined)) return out;
    const tmp = `${out}.tmp-${randomBytes(4).toString('hex')}`;
    await mkdir(tmp, { recursive: true });
    const pip = await run(
      this.python,
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--no-warn-conflicts',
        '--root-user-action=ignore',
        '--no-compile',
        '--target',
        tmp,
        ...pipPlatformArgs(),
        '-r',
        'requirements.txt',
      ],
      src,
    );
    if (pip.code !== 0) {
      await rm(tmp, { recursive: true, force: true });
      const why = pip.stderr
        .split('\n')
        .filter((l) => /ERROR|error:/i.test(l) && !/^\s*$/.test(l))
        .slice(0, 3)
        .join(' ')
        .trim();
      throw new BundleError(spec.name, [
        {
          file: requirements,
          message: `pip could not install it for python3.11 on Linux: ${why || pip.stderr.trim().slice(-500)}; only pure-Python packages and manylinux binary wheels can be installed`,
        },
      ]);
    }
    await rm(join(tmp, 'bin'), { recursive: true, force: true });
    // Byte-compiled once here: the container's /var/task is read-only. Files that do not compile
    // (a package's Python 2 leftovers) are left to fail only if imported.
    await run(this.python, ['-m', 'compileall', '-q', '-j0', '--invalidation-mode', 'unchecked-hash', tmp]);
    await run('chmod', ['-R', 'a+rX', tmp]);
    await rename(tmp, out).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      await rm(tmp, { recursive: true, force: true });
    });
    return out;
  }
}
