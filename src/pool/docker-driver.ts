import type { RuntimeName } from '../manifest/types.js';
import { PYTHON_BOOTSTRAP, PYTHON_BOOTSTRAP_LABEL, RUNTIME_BUNDLE_LABEL, runtimeBundleSha } from './image.js';
import type { ContainerDriver, ContainerLimits, ContainerSpec, ExitInfo } from './driver.js';
import { UserError } from '../util/user-error.js';
import { EngineError, type EngineApi } from './engine-api.js';

export { demux } from './engine-logs.js';

/** Where the runtime socket directory appears inside the container. */
const SOCKET_MOUNT = '/run/faas';
/** Where a container's code folder appears (LAMBDA_TASK_ROOT). */
const TASK_MOUNT = '/var/task';
/** Open files per container process. */
const NOFILE = 4096;
/** Lines of a stopped container's own output kept for the error it caused. */
const LOG_TAIL_LINES = 20;
/** The most of those lines kept (a container's output is untrusted, a line may be huge). */
const LOG_TAIL_BYTES = 16 * 1024;

function resources(limits: ContainerLimits) {
  return {
    Memory: limits.memoryBytes,
    // Equal to Memory: no swap, so the memory limit is a real limit.
    MemorySwap: limits.memoryBytes,
    NanoCpus: Math.round(limits.cpu * 1e9),
    PidsLimit: limits.pids,
  };
}

/**
 * Runs function containers on a Docker Engine with the strict default profile: no network,
 * non-root, read-only root, small tmpfs, all capabilities dropped, no-new-privileges, Docker's
 * default seccomp profile, pids/memory/CPU/nofile limits, an init process, capped logs.
 */
export class DockerDriver implements ContainerDriver {
  constructor(
    private readonly engine: EngineApi,
    private readonly options: { ociRuntime?: string; outboundNetwork?: string } = {},
  ) {}

  async run(spec: ContainerSpec): Promise<string> {
    const id = await this.engine.createContainer(spec.name, {
      Image: spec.image,
      Labels: spec.labels,
      User: '10001:10001',
      WorkingDir: '/tmp',
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      NetworkDisabled: spec.network === 'none',
      StopTimeout: 1,
      HostConfig: {
        ...resources(spec.limits),
        NetworkMode: spec.network === 'none' ? 'none' : (this.options.outboundNetwork ?? 'faas-outbound'),
        ...(this.options.ociRuntime ? { Runtime: this.options.ociRuntime } : {}),
        ReadonlyRootfs: true,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        Init: true,
        Ulimits: [{ Name: 'nofile', Soft: NOFILE, Hard: NOFILE }],
        Tmpfs: { '/tmp': `rw,nosuid,nodev,noexec,size=${spec.tmpfsBytes},mode=1777` },
        Binds: [
          `${spec.socketDir}:${SOCKET_MOUNT}:ro`,
          ...(spec.taskDir ? [`${spec.taskDir}:${TASK_MOUNT}:ro`] : []),
        ],
        LogConfig: { Type: 'json-file', Config: { 'max-size': String(spec.logMaxBytes), 'max-file': '1' } },
        IpcMode: 'private',
        RestartPolicy: { Name: 'no' },
      },
    });
    try {
      await this.engine.startContainer(id);
    } catch (err) {
      await this.engine.removeContainer(id, { force: true }).catch(() => undefined);
      throw err;
    }
    return id;
  }

  async update(id: string, limits: ContainerLimits): Promise<void> {
    await this.engine.updateContainer(id, resources(limits));
  }

  async kill(id: string): Promise<void> {
    await this.engine.killContainer(id, 'SIGKILL').catch(stoppedAlready);
  }

  async remove(id: string): Promise<void> {
    await this.engine.removeContainer(id, { force: true }).catch(stoppedAlready);
  }

  async inspect(id: string): Promise<ExitInfo> {
    const state = await this.engine.inspectContainer(id);
    return {
      running: state.running,
      exitCode: state.running ? undefined : state.exitCode,
      oomKilled: state.oomKilled,
      logTail: await this.engine.containerLogs(id, LOG_TAIL_LINES, LOG_TAIL_BYTES),
    };
  }

  async wait(id: string, timeoutMs: number): Promise<void> {
    // A container still running then: the wait request is given up, its socket freed.
    await this.engine.waitContainer(id, AbortSignal.timeout(timeoutMs)).catch(() => undefined);
  }

  /**
   * The runtime image built for this platform's runtime bundle (scripts/build-runtime-image.sh
   * labels it with the bundle's hash), or the configured override. For python3.11, the image
   * scripts/build-python-image.sh built for this build's bootstrap.py.
   */
  async runtimeImage(override?: string, runtime: RuntimeName = 'node20'): Promise<string> {
    if (override) {
      await this.engine.inspectImage(override).catch(() => {
        throw new UserError(
          `runtime image ${override} (${runtime === 'node20' ? 'FAAS_RUNTIME_IMAGE' : 'FAAS_PYTHON_IMAGE'}) does not exist on this Docker engine`,
          `build or load it there, or unset ${runtime === 'node20' ? 'FAAS_RUNTIME_IMAGE' : 'FAAS_PYTHON_IMAGE'}`,
        );
      });
      return override;
    }
    const python = runtime === 'python3.11';
    const sha = await runtimeBundleSha(python ? PYTHON_BOOTSTRAP : undefined);
    const label = python ? PYTHON_BOOTSTRAP_LABEL : RUNTIME_BUNDLE_LABEL;
    const images = await this.engine.listImages({ [label]: sha });
    // Newest first: an image rebuilt for other inputs (the SDK's versions) with the same bundle wins.
    images.sort((a, b) => b.created - a.created);
    // The image must carry the tag it was built under: an image derived from it (docker commit)
    // inherits the labels but not the tag.
    const tag = images
      .map((i) => i.labels['faas.runtime.tag'])
      .find((t) => t !== undefined && images.some((i) => i.repoTags.includes(t)));
    if (!tag) {
      throw new UserError(
        `no ${runtime} runtime image matches this build`,
        'run `npm run services:up` (or `npm run runtime:image`)',
      );
    }
    return tag;
  }

  /** Answers when the engine does. */
  async ping(): Promise<void> {
    await this.engine.ping();
  }

  async list(labels: Record<string, string>): Promise<Array<{ id: string; labels: Record<string, string> }>> {
    return this.engine.listContainers(labels);
  }
}

/** 404: the container is gone already; 409: it is not running (or being removed). Both mean stopped. */
function stoppedAlready(err: unknown): void {
  if (!(err instanceof EngineError) || (err.status !== 404 && err.status !== 409)) throw err;
}
