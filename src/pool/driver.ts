/**
 * What the pool needs from a container engine. Only docker-driver.ts implements it (over the
 * Engine API client in engine-api.ts); unit tests use fakes.
 */

/** Labels every platform container carries, so a restarted platform can find its leftovers. */
export const LABEL_PLATFORM = 'faas.platform';
export const LABEL_INSTANCE = 'faas.instance';
export const LABEL_FUNCTION = 'faas.function';
export const LABEL_POOL = 'faas.pool';
/**
 * The cluster a container belongs to (see `clusterLabel` in config): a platform's reaper removes
 * only its own cluster's containers, so platforms sharing one engine leave each other's alone.
 */
export const LABEL_CLUSTER = 'faas.cluster';
/** The cluster label of containers started without one being named. */
export const DEFAULT_CLUSTER = 'faas';

export interface ContainerLimits {
  memoryBytes: number;
  /** Fractional CPUs. */
  cpu: number;
  pids: number;
}

export interface ContainerSpec {
  name: string;
  image: string;
  labels: Record<string, string>;
  limits: ContainerLimits;
  /** Host directory holding the runtime socket; mounted read-only at /run/faas. */
  socketDir: string;
  /** Host directory mounted read-only at /var/task (exec allowed): the function's code, once given one. */
  taskDir?: string;
  env: Record<string, string>;
  /** 'none' (default) or 'outbound' (a bridge network that the operator provides). */
  network: 'none' | 'outbound';
  tmpfsBytes: number;
  logMaxBytes: number;
}

export interface ExitInfo {
  running: boolean;
  exitCode?: number;
  oomKilled: boolean;
  /** Last lines of the container's own output (runtime errors, V8 fatal messages). */
  logTail: string;
}

export interface ContainerDriver {
  /** Creates and starts a container; resolves with its id once the engine reports it started. */
  run(spec: ContainerSpec): Promise<string>;
  /** Changes the limits of a running container (a generic warm container becoming a function's). */
  update(id: string, limits: ContainerLimits): Promise<void>;
  kill(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  inspect(id: string): Promise<ExitInfo>;
  /** Resolves once the container has stopped (or after `timeoutMs`, whichever is first). */
  wait(id: string, timeoutMs: number): Promise<void>;
  /** Ids of containers whose labels include all of `labels`. */
  list(labels: Record<string, string>): Promise<Array<{ id: string; labels: Record<string, string> }>>;
}
