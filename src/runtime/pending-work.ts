/**
 * The asynchronous work each invocation has started and not finished (timers, sockets, file
 * operations), so the runtime can do what Lambda does with `callbackWaitsForEmptyEventLoop`:
 * answer a callback-style invocation only once the work it started is done. Lambda waits for the
 * whole process's event loop; here the host's socket keeps that loop busy forever and other
 * invocations may share the process, so each invocation waits for its own work only.
 *
 * The hook costs time on every asynchronous operation, so it is enabled only for handlers that
 * may need it (not for `async` functions, which always return a promise).
 */
import { createHook, type AsyncLocalStorage } from 'node:async_hooks';

interface Tracked {
  resources: Map<number, unknown>;
}

export class PendingWork {
  private readonly invocations = new Map<string, Tracked>();
  private readonly owners = new Map<number, string>();
  private readonly hook = createHook({
    init: (asyncId, type, _trigger, resource) => {
      // Promises keep no loop alive; other work started inside an invocation is its own.
      if (type === 'PROMISE') return;
      const id = this.current.getStore();
      const tracked = id === undefined ? undefined : this.invocations.get(id);
      if (!tracked || id === undefined) return;
      tracked.resources.set(asyncId, resource);
      this.owners.set(asyncId, id);
    },
    destroy: (asyncId) => {
      const id = this.owners.get(asyncId);
      if (id === undefined) return;
      this.owners.delete(asyncId);
      this.invocations.get(id)?.resources.delete(asyncId);
    },
  });
  private enabled = false;

  constructor(
    private readonly current: AsyncLocalStorage<string>,
    /** Other work an invocation waits on that no async resource stands for (storage replies). */
    private readonly extra: (id: string) => boolean = () => false,
  ) {}

  /** Starts recording work for the invocation `id` (enables the hook on first use). */
  track(id: string): void {
    if (!this.enabled) {
      this.hook.enable();
      this.enabled = true;
    }
    this.invocations.set(id, { resources: new Map() });
  }

  /** Forgets the invocation. */
  untrack(id: string): void {
    const tracked = this.invocations.get(id);
    if (!tracked) return;
    for (const asyncId of tracked.resources.keys()) this.owners.delete(asyncId);
    this.invocations.delete(id);
  }

  /** Whether the invocation still has work that would keep an event loop alive. */
  busy(id: string): boolean {
    if (this.extra(id)) return true;
    const tracked = this.invocations.get(id);
    if (!tracked) return false;
    for (const resource of tracked.resources.values()) {
      // Timers, immediates and handles say whether they are ref'd (unref'd ones keep no loop alive).
      const hasRef = (resource as { hasRef?: () => boolean } | null)?.hasRef;
      if (typeof hasRef !== 'function' || hasRef.call(resource)) return true;
    }
    return false;
  }

  /** Resolves once the invocation has no work left (checked every `intervalMs`). */
  drained(id: string, intervalMs = 5): Promise<void> {
    if (!this.busy(id)) return Promise.resolve();
    // The poll runs outside the invocation, or it would be work of its own.
    return this.current.exit(
      () =>
        new Promise<void>((resolve) => {
          const timer = setInterval(() => {
            if (this.busy(id)) return;
            clearInterval(timer);
            resolve();
          }, intervalMs);
        }),
    );
  }
}
