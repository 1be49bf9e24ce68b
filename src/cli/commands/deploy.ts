import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { ApiClient } from '../client.js';
import { manifestPath } from '../manifest-path.js';

interface DeployedRow {
  name: string;
  action: 'created' | 'updated' | 'unchanged' | 'removed';
  version: number;
  hash?: string;
}

interface VersionsAnswer {
  name: string;
  current: number | null;
  versions: Array<{
    version: number;
    hash: string;
    deployedAt: string;
    deployedBy: string;
    current: boolean;
  }>;
}

/** One line that rewrites itself on a terminal, or plain lines in a log. */
function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
  else process.stderr.write(`${line}\n`);
}

function endProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
}

function kb(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1048576).toFixed(1)} MB`;
}

/** The lines `faas deploy` prints for what changed. */
export function describeDeploy(rows: DeployedRow[], before: Map<string, number>): string[] {
  const order = { created: 0, updated: 1, removed: 2, unchanged: 3 };
  return [...rows]
    .sort((a, b) => order[a.action] - order[b.action] || a.name.localeCompare(b.name))
    .map((r) => {
      const was = before.get(r.name);
      const detail =
        r.action === 'updated' && was
          ? `v${r.version} (was v${was})`
          : r.action === 'removed'
            ? `(was v${was ?? '?'})`
            : `v${r.version}`;
      return `${r.action.padEnd(9)} ${r.name.padEnd(24)} ${detail.padEnd(16)} ${r.hash ? r.hash.slice(0, 12) : ''}`.trimEnd();
    });
}

/**
 * `faas deploy`: validates the manifest and bundles every handler here (refusing it all when
 * anything is wrong), uploads the bundles the store lacks, and deploys through the API.
 */
async function deploy(cmd: Command, o: { prune?: boolean }): Promise<void> {
  const [
    { Bundler },
    { Runtimes },
    { loadConfig },
    { checkHandlers },
    { loadManifest },
    { bundleManifest, whoDeploys },
    { codeHash },
  ] = await Promise.all([
    import('../../build/bundle.js'),
    import('../../runtimes/index.js'),
    import('../../config/index.js'),
    import('../../build/check.js'),
    import('../../manifest/load.js'),
    import('../../deploy/deployer.js'),
    import('../../deploy/code-store.js'),
  ]);
  const client = ApiClient.fromEnv(process.env);
  const file = manifestPath(cmd, process.env);
  const manifest = await loadManifest(file);
  // Python dependencies are installed for the containers' platform, cached under FAAS_CACHE_DIR.
  const config = loadConfig(process.env);
  const runtimes = new Runtimes({
    cacheDir: config.cacheDir,
    python: config.FAAS_PYTHON,
    bundler: new Bundler(manifest.dir),
  });
  progress('building');
  await checkHandlers(manifest, runtimes);
  const bundles = await bundleManifest(manifest, runtimes, (done, total, name) =>
    progress(`bundling ${done}/${total} ${name}`),
  );
  const code: Record<string, string> = {};
  let n = 0;
  for (const [name, bundle] of bundles) {
    const hash = codeHash(bundle);
    code[name] = hash;
    progress(`uploading ${++n}/${bundles.size} ${name} (${kb(bundle.length)})`);
    const stored = await client.request('GET', `/deployments/code/${hash}`);
    if (stored.status === 404) {
      await client.json('PUT', `/deployments/code/${hash}`, bundle, {
        'content-type': 'application/octet-stream',
      });
    } else if (!stored.ok) {
      await client.json('GET', `/deployments/code/${hash}`);
    }
  }
  endProgress();
  const before = new Map(
    (await client.json<Array<{ name: string; version: number | null }>>('GET', '/functions')).map((f) => [
      f.name,
      f.version ?? 0,
    ]),
  );
  const answer = await client.json<{ functions: DeployedRow[] }>(
    'POST',
    '/deployments',
    JSON.stringify({
      manifest: await readFile(manifest.file, 'utf8'),
      file: relative(process.cwd(), manifest.file) || manifest.file,
      code,
      prune: o.prune === true,
      by: whoDeploys(),
    }),
  );
  for (const line of describeDeploy(answer.functions, before)) console.log(line);
}

/** `faas deploy`, `faas rollback`, `faas versions` and `faas rm`. */
export function deployCommands(program: Command): void {
  program
    .command('deploy')
    .description('deploy the manifest to the running platform (new and changed functions get a new version)')
    .option('--prune', 'remove deployed functions the manifest does not name')
    .action((o: { prune?: boolean }, cmd: Command) => deploy(cmd, o));

  program
    .command('rollback <name>')
    .description('make an earlier version current (default: the one before the current one)')
    .option('--to <version>', 'the version number to make current')
    .action(async (name: string, o: { to?: string }) => {
      const { UserError } = await import('../../util/user-error.js');
      // Digits only (an optional v): Number() would read 0x2 or 1e0 as versions.
      const to = o.to === undefined || !/^v?\d+$/.test(o.to) ? undefined : Number(o.to.replace(/^v/, ''));
      if (o.to !== undefined && !(to !== undefined && to >= 1))
        throw new UserError(
          `--to ${o.to} is not a version number`,
          'give one that `faas versions NAME` lists',
        );
      const r = await ApiClient.fromEnv(process.env).json<{
        name: string;
        version: number;
        from: number | null;
      }>(
        'POST',
        `/functions/${encodeURIComponent(name)}/rollback`,
        JSON.stringify(to === undefined ? {} : { to }),
      );
      console.log(`${r.name} v${r.version} is current${r.from ? ` (was v${r.from})` : ''}`);
    });

  program
    .command('versions <name>')
    .description('list the versions of a function')
    .action(async (name: string) => {
      const r = await ApiClient.fromEnv(process.env).json<VersionsAnswer>(
        'GET',
        `/functions/${encodeURIComponent(name)}/versions`,
      );
      for (const v of r.versions)
        console.log(
          `${v.current ? '*' : ' '} v${String(v.version).padEnd(5)} ${v.hash.slice(0, 12)}  ${v.deployedAt}  ${v.deployedBy}`,
        );
      if (r.current === null)
        console.log(`${r.name} is removed: \`faas rollback ${r.name} --to N\` brings a version back`);
    });

  program
    .command('rm <name>')
    .description('remove a function (its triggers stop at once; its containers drain)')
    .action(async (name: string) => {
      await ApiClient.fromEnv(process.env).json('DELETE', `/functions/${encodeURIComponent(name)}`);
      console.log(`removed ${name}`);
    });
}
