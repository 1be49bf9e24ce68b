import type { Logger } from '../observability/logger.js';

/** How long a process that hit an unexpected error may spend stopping before it exits anyway. */
const FATAL_STOP_DEADLINE_MS = 5000;
/** Exit status after an unexpected error (EX_SOFTWARE): a supervisor restarts the process. */
export const FATAL_EXIT_CODE = 70;

/**
 * What a platform process does on an error nothing else handled: it logs the error with its
 * stack at fatal level, stops what it can within a deadline, and exits with status 70 so a
 * supervisor (systemd, Docker's restart policy, Kubernetes) starts it again. Going on after an
 * unknown failure risks a process that looks alive and serves nothing; exiting loses nothing
 * accepted, because queued work is in Redis and containers are found again by their labels.
 * @example exitOnUnexpected(logger, () => platform.stop());
 */
export function exitOnUnexpected(logger: Logger, stop: () => Promise<void>): void {
  let failing = false;
  const fatal = (kind: string) => (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    logger.fatal(
      { err: e.message, stack: e.stack, kind },
      'unexpected error: stopping; restart the platform',
    );
    if (failing) return;
    failing = true;
    const deadline = setTimeout(() => process.exit(FATAL_EXIT_CODE), FATAL_STOP_DEADLINE_MS);
    deadline.unref();
    stop()
      .catch(() => undefined)
      .finally(() => process.exit(FATAL_EXIT_CODE));
  };
  process.on('uncaughtException', fatal('uncaughtException'));
  process.on('unhandledRejection', fatal('unhandledRejection'));
}
