import type { RuntimeName } from '../manifest/types.js';

/**
 * How a runtime's code reaches a container: `inline`, one bundled module sent in the `init`
 * message over the runtime socket; `dir`, a folder of code and dependencies the host fills in
 * the container's /var/task (a read-only bind mount of a per-container host folder).
 */
export type CodeDelivery = 'inline' | 'dir';

/** Each runtime's code delivery: the pool reads it to decide what to prepare before `init`. */
export const CODE_DELIVERY: Readonly<Record<RuntimeName, CodeDelivery>> = {
  node20: 'inline',
  'python3.11': 'dir',
};
