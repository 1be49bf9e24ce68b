import type { Logger } from '../observability/logger.js';

export interface EngineWatchOptions {
  /** Asks the host's Docker engine whether it answers (DockerDriver.ping). */
  ping: () => Promise<unknown>;
  /** The engine stopped answering: this host can run nothing. */
  onDown: (problem: string) => void;
  /** Called after every failed check while the engine is down (waiters that came since). */
  whileDown?: (problem: string) => void;
  /** The engine answers again. */
  onUp: () => void;
  logger: Logger;
  /** @defaultValue 1 s */
  intervalMs?: number;
  /** Consecutive failed checks before the engine counts as down. @defaultValue 2 */
  failures?: number;
  /** A check that takes longer fails. @defaultValue 3 s */
  timeoutMs?: number;
}

/**
 * Watches this host's Docker engine. A worker process whose engine is stopped stays alive, but
 * nothing it takes can run: while the engine does not answer, the host takes no new job (its
 * queue workers pause), fails the invocations waiting for a container (kind `no-capacity`, so
 * their jobs retry, on the hosts that can run them) and reports itself unhealthy in status.
 */
export class EngineWatch {
  private timer?: NodeJS.Timeout;
  private failed = 0;
  private checking = false;
  /** Why the engine counts as down; undefined while it answers. */
  problem: string | undefined;

  constructor(private readonly o: EngineWatchOptions) {}

  get healthy(): boolean {
    return this.problem === undefined;
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.o.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One check; checks never overlap. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeoutMs = this.o.timeoutMs ?? 3000;
      await Promise.race([
        this.o.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      this.failed = 0;
      if (this.problem !== undefined) {
        this.problem = undefined;
        this.o.logger.warn({ component: 'engine' }, 'the Docker engine answers again: taking jobs');
        this.o.onUp();
      }
    } catch (err) {
      this.failed++;
      if (this.failed < (this.o.failures ?? 2)) return;
      const problem = `the Docker engine does not answer: ${(err as Error).message}`;
      if (this.problem === undefined) {
        this.problem = problem;
        this.o.logger.error(
          { component: 'engine', err: (err as Error).message },
          'the Docker engine does not answer: this host takes no jobs until it does',
        );
        this.o.onDown(problem);
      } else {
        this.problem = problem;
        this.o.whileDown?.(problem);
      }
    } finally {
      clearTimeout(timer);
      this.checking = false;
    }
  }
}
