import type { Command } from 'commander';
import { watch } from 'node:fs';
import { dirname } from 'node:path';
import { exitOnUnexpected } from '../fatal.js';
import { manifestPath } from '../manifest-path.js';
import type { Platform, Roles } from '../../platform/index.js';
import type { Runtimes } from '../../runtimes/index.js';

interface UpOptions {
  /** `--manifest FILE`, or false for `--no-manifest`. */
  manifest?: string | false;
  watch?: boolean;
}

/** How long `--watch` waits after the last save before it deploys (editors write in bursts). */
const WATCH_SETTLE_MS = 150;

/**
 * Runs the platform until SIGINT or SIGTERM; `roles` picks which parts run in this process.
 * With a manifest it first deploys it (the cluster's functions then match it); without one it
 * serves what is deployed. A bad setting, a manifest or handler `faas validate` would refuse, or
 * a service that does not answer is thrown before anything starts.
 */
async function run(cmd: Command, roles: Roles, o: UpOptions, deploys: boolean): Promise<void> {
  // Loaded here so that the other verbs (ls, invoke, ...) start without the platform's modules.
  const [
    { Bundler },
    { Runtimes },
    { checkHandlers },
    { configWarnings, loadConfig },
    { loadManifest },
    { createLogger },
  ] = await Promise.all([
    import('../../build/bundle.js'),
    import('../../runtimes/index.js'),
    import('../../build/check.js'),
    import('../../config/index.js'),
    import('../../manifest/load.js'),
    import('../../observability/logger.js'),
  ]);
  const config = loadConfig(process.env);
  const logger = createLogger(config.FAAS_LOG_LEVEL);
  for (const w of configWarnings(config)) logger.warn(w);
  const file = deploys ? manifestPath(cmd, process.env) : undefined;
  const manifest = file ? await loadManifest(file) : undefined;
  // Bundles name sources relative to the manifest's folder: the same code is the same bundle.
  const runtimesFor = (dir?: string) =>
    new Runtimes({ cacheDir: config.cacheDir, python: config.FAAS_PYTHON, bundler: new Bundler(dir) });
  const runtimes = runtimesFor(manifest?.dir);
  if (manifest) await checkHandlers(manifest, runtimes);
  const { startPlatform } = await import('../../platform/index.js');
  const platform = await startPlatform(config, manifest, logger, roles, process.env, runtimes);
  exitOnUnexpected(logger, () => platform.stop());
  const stopWatching = o.watch && file ? watchAndDeploy(platform, file, runtimesFor) : undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    stopWatching?.();
    logger.info({ signal }, 'stopping');
    platform.stop().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err: err.message }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/**
 * `faas up --watch`: on every save under the manifest's folder, validates and deploys in place,
 * printing the new versions or the exact error; a broken save changes nothing, so the last good
 * version keeps serving.
 */
function watchAndDeploy(
  platform: Platform,
  file: string,
  runtimesFor: (dir: string) => Runtimes,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  const round = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await deployOnce(platform, file, runtimesFor);
      } while (again);
    } finally {
      running = false;
    }
  };
  const dir = dirname(file);
  const watcher = watch(dir, { recursive: true }, (_event, name) => {
    // The platform's own state folder (tests keep it beside the manifest) is not the code.
    if (name && /(^|\/)(state|node_modules)(\/|$)|(^|\/)\.|~$/.test(String(name))) return;
    clearTimeout(timer);
    timer = setTimeout(() => void round(), WATCH_SETTLE_MS);
  });
  console.log(`watching ${dir} for changes`);
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}

/** One `--watch` deploy: validated and bundled afresh; the outcome printed in one or more lines. */
async function deployOnce(
  platform: Platform,
  file: string,
  runtimesFor: (dir: string) => Runtimes,
): Promise<void> {
  const [{ checkHandlers }, { loadManifest }, { describeError }] = await Promise.all([
    import('../../build/check.js'),
    import('../../manifest/load.js'),
    import('../report.js'),
  ]);
  try {
    const manifest = await loadManifest(file);
    // A new bundler each round: a save may change any file a handler imports.
    const runtimes = runtimesFor(manifest.dir);
    await checkHandlers(manifest, runtimes);
    const results = await platform.deploy(manifest, runtimes);
    const changed = results.filter((r) => r.action !== 'unchanged');
    if (changed.length === 0) console.log('deploy: nothing changed');
    for (const r of changed)
      console.log(`deploy: ${r.action} ${r.name}${r.action === 'removed' ? '' : ` v${r.version}`}`);
  } catch (err) {
    console.log('deploy refused; the running versions keep serving:');
    for (const line of describeError(err, false, 'nothing deployed').lines) console.log(`  ${line}`);
  }
}

/**
 * `faas up`: every role in one process (API and webhooks, bucket listeners, workers).
 * `faas worker` and `faas api` run one role each, sharing one Redis, for more hosts.
 * @example upCommand(program); // faas up --manifest functions/manifest.yaml
 */
export function upCommand(program: Command): void {
  program
    .command('up')
    .description('run the platform: API, webhooks, bucket listeners and workers')
    .option('--manifest <file>', 'functions manifest (default: $FAAS_MANIFEST or functions/manifest.yaml)')
    .option('--no-manifest', 'deploy nothing: serve the functions already deployed')
    .option('--watch', 'deploy again whenever a handler file or the manifest is saved')
    .action((o: UpOptions, cmd: Command) =>
      run(cmd, { api: true, workers: true, listeners: true }, o, o.manifest !== false),
    );
  // Without --manifest (or FAAS_MANIFEST) these serve what is deployed, as a host joining does.
  const explicit = (cmd: Command) =>
    cmd.optsWithGlobals<{ manifest?: unknown }>().manifest !== undefined ||
    Boolean(process.env.FAAS_MANIFEST);
  program
    .command('worker')
    .description('run only workers and their container pool (for more worker hosts)')
    .action((_o: unknown, cmd: Command) =>
      run(cmd, { api: false, workers: true, listeners: false }, {}, explicit(cmd)),
    );
  program
    .command('api')
    .description('run only the HTTP API, webhooks and bucket listeners')
    .action((_o: unknown, cmd: Command) =>
      run(cmd, { api: true, workers: false, listeners: true }, {}, explicit(cmd)),
    );
}
