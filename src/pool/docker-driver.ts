import Docker from 'dockerode';
import type { RuntimeName } from '../manifest/types.js';
import { PYTHON_BOOTSTRAP, PYTHON_BOOTSTRAP_LABEL, RUNTIME_BUNDLE_LABEL, runtimeBundleSha } from './image.js';
import type { ContainerDriver, ContainerLimits, ContainerSpec, ExitInfo } from './driver.js';
import { UserError } from '../util/user-error.js';

/** Where the runtime socket directory appears inside the container. */
const SOCKET_MOUNT = '/run/faas';
/** Where a container's code folder appears (LAMBDA_TASK_ROOT). */
const TASK_MOUNT = '/var/task';
/** Open files per container process. */
const NOFILE = 4096;

/** Joins the payloads of Docker's multiplexed log format (8-byte frame headers). */
export function demux(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const size = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

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
    private readonly docker: Docker = new Docker(),
    private readonly options: { ociRuntime?: string; outboundNetwork?: string } = {},
  ) {}

  async run(spec: ContainerSpec): Promise<string> {
    const container = await this.docker.createContainer({
      name: spec.name,
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
      await container.start();
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw err;
    }
    return container.id;
  }

  async update(id: string, limits: ContainerLimits): Promise<void> {
    await this.docker.getContainer(id).update(resources(limits));
  }

  async kill(id: string): Promise<void> {
    await this.docker
      .getContainer(id)
      .kill({ signal: 'SIGKILL' })
      .catch((err: { statusCode?: number }) => {
        // 404: already gone; 409: not running. Both mean the container is stopped.
        if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
      });
  }

  async remove(id: string): Promise<void> {
    await this.docker
      .getContainer(id)
      .remove({ force: true, v: true })
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
      });
  }

  async inspect(id: string): Promise<ExitInfo> {
    const c = this.docker.getContainer(id);
    const info = await c.inspect();
    const raw = (await c.logs({ stdout: true, stderr: true, tail: 20, follow: false })) as unknown as Buffer;
    return {
      running: info.State.Running,
      exitCode: info.State.Running ? undefined : info.State.ExitCode,
      oomKilled: info.State.OOMKilled,
      logTail: demux(raw),
    };
  }

  async wait(id: string, timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.docker
        .getContainer(id)
        .wait()
        .catch(() => undefined),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  /**
   * The runtime image built for this platform's runtime bundle (scripts/build-runtime-image.sh
   * labels it with the bundle's hash), or the configured override. For python3.11, the image
   * scripts/build-python-image.sh built for this build's bootstrap.py.
   */
  async runtimeImage(override?: string, runtime: RuntimeName = 'node20'): Promise<string> {
    if (override) {
      await this.docker
        .getImage(override)
        .inspect()
        .catch(() => {
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
    const images = await this.docker.listImages({ filters: { label: [`${label}=${sha}`] } });
    // Newest first: an image rebuilt for other inputs (the SDK's versions) with the same bundle wins.
    images.sort((a, b) => b.Created - a.Created);
    // The image must carry the tag it was built under: an image derived from it (docker commit)
    // inherits the labels but not the tag.
    const tag = images
      .map((i) => i.Labels?.['faas.runtime.tag'])
      .find((t) => t !== undefined && images.some((i) => i.RepoTags?.includes(t)));
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
    await this.docker.ping();
  }

  async list(labels: Record<string, string>): Promise<Array<{ id: string; labels: Record<string, string> }>> {
    const filters = { label: Object.entries(labels).map(([k, v]) => (v === '' ? k : `${k}=${v}`)) };
    const found = await this.docker.listContainers({ all: true, filters });
    return found.map((c) => ({ id: c.Id, labels: c.Labels }));
  }
}
