/**
 * The servers a benchmark run has started and not yet stopped (platforms, the baseline server),
 * so that an interrupted run stops them too: left running, a platform keeps serving the functions
 * deployed on the same Redis and takes the next run's jobs.
 */

/** @type {Set<() => Promise<unknown>>} */
const running = new Set();

/**
 * Remembers how to stop a server until it is stopped.
 * @param {() => Promise<unknown>} stop
 * @returns {() => Promise<unknown>} the same stop, which forgets the server once it has run
 */
export function track(stop) {
  const tracked = async () => {
    try {
      return await stop();
    } finally {
      running.delete(tracked);
    }
  };
  running.add(tracked);
  return tracked;
}

/** Stops every server still running; failures are ignored. */
export async function stopAll() {
  await Promise.all([...running].map((stop) => stop().catch(() => undefined)));
}
