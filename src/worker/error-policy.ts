import type { ErrorKind } from '../runtime/protocol.js';

/**
 * What each kind of failure means for the job and for the container: one table, read by the
 * worker (retry or not) and by the invocation (keep the container or not).
 */
export const ERROR_POLICY: Readonly<Record<ErrorKind, { retry: boolean; retire: boolean }>> = {
  handler: { retry: true, retire: false },
  permanent: { retry: false, retire: false },
  permission: { retry: true, retire: false },
  timeout: { retry: true, retire: true },
  exit: { retry: true, retire: true },
  oom: { retry: true, retire: true },
  'container-lost': { retry: true, retire: true },
  init: { retry: true, retire: true },
  'result-too-large': { retry: false, retire: false },
  'no-capacity': { retry: true, retire: false },
  // A container that broke the protocol is not trusted again; another may well run the job.
  protocol: { retry: true, retire: true },
};

/** Failures that another attempt cannot fix: the job fails at once. */
export function endsRetries(kind: ErrorKind): boolean {
  return !ERROR_POLICY[kind].retry;
}

/** Failures after which the container is not trusted with more work. */
export function retiresContainer(kind: ErrorKind): boolean {
  return ERROR_POLICY[kind].retire;
}
