import type { FunctionSpec, RuntimeName } from '../manifest/types.js';
import type { RuntimeChannel } from './channel.js';
import type { ExitInfo } from './driver.js';

/**
 * A container's life: `starting` (engine start, runtime connecting) → `generic` (warm, no
 * function) or → `loading` (function code being loaded) → `ready` (serving; `inFlight` tells how
 * busy) → `draining` (no new work; stops when empty) → `stopping` → `dead`. A container that
 * fails is never returned to `ready`: it goes to `stopping` and is replaced.
 */
export type ContainerState = 'starting' | 'generic' | 'loading' | 'ready' | 'draining' | 'stopping' | 'dead';

const NEXT: Record<ContainerState, ContainerState[]> = {
  starting: ['generic', 'loading', 'stopping'],
  generic: ['loading', 'stopping'],
  loading: ['ready', 'stopping'],
  ready: ['draining', 'stopping'],
  draining: ['ready', 'stopping'],
  stopping: ['dead'],
  dead: [],
};

export interface PoolContainer {
  name: string;
  id?: string;
  state: ContainerState;
  /** The function it serves; undefined while generic. */
  fn?: string;
  /** The function's settings and version as loaded into it (a container serves one version). */
  spec?: FunctionSpec;
  /** The runtime image it runs: a generic container becomes a function of this runtime only. */
  runtime: RuntimeName;
  channel?: RuntimeChannel;
  inFlight: number;
  /** Invocations served so far: the first one is the cold one. */
  served: number;
  /** Taken from the generic warm set rather than created for its function. */
  prewarmed: boolean;
  createdAt: number;
  lastUsed: number;
  /** Why the pool is stopping it: timeout, lost, idle, scale-down, shutdown. */
  stopReason?: string;
  /** How the container ended, read from the engine before it is removed. */
  exit?: Promise<ExitInfo | undefined>;
}

export class IllegalTransition extends Error {
  override name = 'IllegalTransition';
}

/** Moves `c` to `to`, refusing any transition the life cycle does not have. */
export function transition(c: PoolContainer, to: ContainerState): void {
  if (c.state === to) return;
  if (!NEXT[c.state].includes(to)) throw new IllegalTransition(`container ${c.name}: ${c.state} → ${to}`);
  c.state = to;
}
