import type { Command } from 'commander';
import { exitOnUnexpected } from '../fatal.js';
import { manifestPath } from '../manifest-path.js';
import type { Roles } from '../platform.js';

/**
 * Runs the platform until SIGINT or SIGTERM; `roles` picks which parts run in this process.
 * A bad setting, a manifest or handler `faas validate` would refuse, or a service that does not
 * answer is thrown before anything starts; the CLI prints it as a user error.
 */
async function run(cmd: Command, roles: Roles): Promise<void> {
  // Loaded here so that the other verbs (ls, invoke, ...) start without the platform's modules.
  const [
    { Runtimes },
    { checkHandlers },
    { configWarnings, loadConfig },
    { loadManifest },
    { createLogger },
  ] = await Promise.all([
    import('../../runtimes/index.js'),
    import('../../build/check.js'),
    import('../../config/index.js'),
    import('../../manifest/load.js'),
    import('../../observability/logger.js'),
  ]);
  const config = loadConfig(process.env);
  const logger = createLogger(config.FAAS_LOG_LEVEL);
  for (const w of configWarnings(config)) logger.warn(w);
  const manifest = await loadManifest(manifestPath(cmd, process.env));
  const runtimes = new Runtimes({ cacheDir: config.cacheDir, python: config.FAAS_PYTHON });
  await checkHandlers(manifest, runtimes);
  const { startPlatform } = await import('../platform.js');
  const platform = await startPlatform(config, manifest, logger, roles, process.env, runtimes);
  exitOnUnexpected(logger, () => platform.stop());
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
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
 * `faas up`: every role in one process (API and webhooks, bucket listeners, workers).
 * `faas worker` and `faas api` run one role each, sharing one Redis, for more hosts.
 * @example upCommand(program); // faas up --manifest functions/manifest.yaml
 */
export function upCommand(program: Command): void {
  program
    .command('up')
    .description('run the platform: API, webhooks, bucket listeners and workers')
    .action((_o: unknown, cmd: Command) => run(cmd, { api: true, workers: true, listeners: true }));
  program
    .command('worker')
    .description('run only workers and their container pool (for more worker hosts)')
    .action((_o: unknown, cmd: Command) => run(cmd, { api: false, workers: true, listeners: false }));
  program
    .command('api')
    .description('run only the HTTP API, webhooks and bucket listeners')
    .action((_o: unknown, cmd: Command) => run(cmd, { api: true, workers: false, listeners: true }));
}
