/**
 * The container profile, read back from the Docker Engine: `faas up` runs a function, and the
 * running container's configuration is checked item by item against the strict default profile
 * (non-root, read-only root, small noexec tmpfs, no network, no capabilities, no-new-privileges,
 * Docker's default seccomp profile, pids/memory/CPU/nofile limits, init, capped logs, and no host
 * path but the runtime socket's directory).
 */
import type Docker from 'dockerode';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformProcess, type RunningPlatform } from '../helpers/platform.js';
import { requireDocker, requireMinio, requireRedis } from '../helpers/services.js';

const MiB = 1024 * 1024;
const CANARY = `profile-canary-${Math.random().toString(36).slice(2)}`;

type Inspect = Docker.ContainerInspectInfo;

async function containersOf(docker: Docker, instance: string, fn?: string): Promise<Inspect[]> {
  const label = [`faas.instance=${instance}`, ...(fn ? [`faas.function=${fn}`] : [])];
  const found = await docker.listContainers({ all: true, filters: { label } });
  // The platform may remove a container between the listing and its inspection (a surplus
  // container retired, say): one that is gone by then is not in the answer.
  const inspected = await Promise.all(
    found.map((c) =>
      docker
        .getContainer(c.Id)
        .inspect()
        .catch((err: unknown) => {
          if ((err as { statusCode?: number }).statusCode === 404) return undefined;
          throw err;
        }),
    ),
  );
  return inspected.filter((c): c is Inspect => c !== undefined);
}

async function invoke(platform: RunningPlatform, fn: string): Promise<void> {
  const res = await fetch(`${platform.url}/functions/${fn}/invoke`, { method: 'POST', body: '{"n":1}' });
  expect(res.status, await res.clone().text()).toBe(200);
  expect(await res.json()).toMatchObject({ echo: { n: 1 }, fn });
}

/** Every item of the strict profile; limits are the function's (or a generic container's). */
function expectStrictProfile(info: Inspect, o: { memoryBytes: number; cpu: number; stateDir: string }): void {
  const h = info.HostConfig;
  const name = info.Name;
  expect(info.State.Running, `${name} is running`).toBe(true);
  expect(info.Config.User, 'non-root user').toBe('10001:10001');
  expect(h.Privileged, 'not privileged').toBe(false);
  // FAAS_OCI_RUNTIME (e.g. runsc) when the suite runs with one; Docker's default otherwise.
  expect((h as { Runtime?: string }).Runtime, 'OCI runtime').toBe(process.env.FAAS_OCI_RUNTIME ?? 'runc');
  expect(h.ReadonlyRootfs, 'read-only root file system').toBe(true);

  expect(Object.keys(h.Tmpfs ?? {}), 'only /tmp is a tmpfs').toEqual(['/tmp']);
  const tmpfs = (h.Tmpfs?.['/tmp'] ?? '').split(',');
  expect(tmpfs, '/tmp options').toEqual(expect.arrayContaining(['noexec', 'nosuid', 'nodev']));
  const size = tmpfs.find((opt) => opt.startsWith('size='));
  expect(size, '/tmp has a size= option').toMatch(/^size=\d+$/);
  expect(Number(size?.slice(5))).toBeGreaterThan(0);
  expect(Number(size?.slice(5))).toBeLessThanOrEqual(256 * MiB);

  expect(h.NetworkMode, 'no network').toBe('none');
  expect(
    Object.keys(info.NetworkSettings.Networks ?? {}).filter((n) => n !== 'none'),
    'no network attached',
  ).toEqual([]);
  for (const mode of ['PidMode', 'IpcMode', 'UTSMode', 'UsernsMode'] as const) {
    expect((h as Record<string, unknown>)[mode] ?? '', `${mode} is not the host's`).not.toBe('host');
  }

  expect(h.CapDrop, 'all capabilities dropped').toEqual(['ALL']);
  expect(h.CapAdd ?? [], 'no capability added back').toEqual([]);
  const securityOpt = (h.SecurityOpt ?? []) as string[];
  expect(
    securityOpt.some((opt) => /^no-new-privileges([:=]true)?$/.test(opt)),
    `no-new-privileges in ${JSON.stringify(securityOpt)}`,
  ).toBe(true);
  // No seccomp= option at all means Docker's default profile applies.
  expect(
    securityOpt.filter((opt) => /^(seccomp|apparmor|label)[:=]/.test(opt)),
    'no seccomp, AppArmor or SELinux override',
  ).toEqual([]);
  expect(h.Devices ?? [], 'no host devices').toEqual([]);

  expect(h.PidsLimit, 'pids limit').toBeGreaterThan(0);
  expect(h.PidsLimit).toBeLessThanOrEqual(1024);
  expect(h.Memory, "memory limit is the manifest's").toBe(o.memoryBytes);
  expect(h.MemorySwap, 'no swap: MemorySwap equals Memory').toBe(h.Memory);
  expect(h.NanoCpus, "CPU limit is the manifest's").toBe(Math.round(o.cpu * 1e9));
  const nofile = (h.Ulimits ?? []).find((u) => u.Name === 'nofile');
  expect(nofile, 'nofile ulimit').toBeDefined();
  expect(nofile?.Soft).toBeGreaterThan(0);
  expect(nofile?.Hard).toBeGreaterThanOrEqual(nofile?.Soft ?? 0);
  expect(nofile?.Hard).toBeLessThanOrEqual(65536);

  expect(h.Init, 'an init process reaps orphans').toBe(true);
  expect(h.LogConfig?.Type, 'log driver').toBe('json-file');
  expect(h.LogConfig?.Config?.['max-size'], 'log size cap').toMatch(/^\d+[kmg]?$/i);

  // The runtime socket's directory and the container's own code folder (/var/task), both
  // read-only, are the only host paths in the container.
  expect(h.Binds ?? [], 'binds').toHaveLength(2);
  expect(info.Mounts, 'mounts').toHaveLength(2);
  const mounts = [...info.Mounts].sort((a, b) => a.Destination.localeCompare(b.Destination));
  expect(mounts[0]).toMatchObject({ Type: 'bind', Destination: '/run/faas', RW: false });
  expect(mounts[1]).toMatchObject({ Type: 'bind', Destination: '/var/task', RW: false });
  for (const mount of mounts) {
    expect(mount.Source.startsWith(`${o.stateDir}/`), `${mount.Source} is under ${o.stateDir}`).toBe(true);
    expect(mount.Source, 'a folder of this container only').toContain(info.Name.replace(/^\//, ''));
  }
  for (const path of [...(h.Binds ?? []), ...info.Mounts.map((m) => m.Source)]) {
    expect(path, 'no Docker socket').not.toMatch(/docker\.sock|containerd/);
  }

  // Nothing of the platform's environment (credentials, tokens) reaches the container.
  const env = info.Config.Env.join('\n');
  expect(env).not.toContain(CANARY);
  expect(env).not.toMatch(/^(S3_|REDIS_URL|FAAS_API_TOKEN|AWS_SECRET)/m);
}

describe('container profile', () => {
  let docker: Docker;
  let engineSecurity: string[] = [];

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    (await requireMinio()).destroy();
    docker = await requireDocker();
    engineSecurity = ((await docker.info()) as { SecurityOptions?: string[] }).SecurityOptions ?? [];
  });

  it('runs on an engine with seccomp enabled and its default profile', () => {
    expect(
      engineSecurity.some((o) => /name=seccomp,profile=default/.test(o)),
      engineSecurity.join(' '),
    ).toBe(true);
  });

  // The same profile whatever the language: each runtime's containers are checked.
  describe.each([
    { runtime: 'node20', fixture: 'echo', handler: 'echo/index.handler' },
    { runtime: 'python3.11', fixture: 'py-echo', handler: 'py-echo/app.handler' },
  ])('$runtime', ({ runtime, fixture, handler }) => {
    describe('a container started for the function', () => {
      let platform: RunningPlatform;

      beforeAll(async () => {
        platform = await startPlatformProcess(
          `version: 1
functions:
  profiled:
    handler: ${handler}
    runtime: ${runtime}
    memory: 192Mi
    cpu: 0.5
    retry: { attempts: 1 }
`,
          [fixture],
          { PROFILE_TEST_CANARY: CANARY },
        );
      }, 120_000);

      afterAll(async () => {
        const code = await platform?.stop();
        expect(code).toBe(0);
        if (platform) expect(await containersOf(docker, platform.instance)).toEqual([]);
      }, 60_000);

      it('has every item of the strict profile, with the manifest’s limits', async () => {
        await invoke(platform, 'profiled');
        const found = await containersOf(docker, platform.instance, 'profiled');
        expect(found, 'one container for the function').toHaveLength(1);
        expectStrictProfile(found[0] as Inspect, {
          memoryBytes: 192 * MiB,
          cpu: 0.5,
          stateDir: join(platform.dir, 'state'),
        });
      });
    });

    describe('a pre-warmed generic container given to the function', () => {
      let platform: RunningPlatform;

      beforeAll(async () => {
        platform = await startPlatformProcess(
          `version: 1
functions:
  warmed:
    handler: ${handler}
    runtime: ${runtime}
    memory: 96Mi
    cpu: 0.25
    retry: { attempts: 1 }
`,
          [fixture],
          { FAAS_PREWARM: '1', PROFILE_TEST_CANARY: CANARY },
        );
      }, 120_000);

      afterAll(async () => {
        const code = await platform?.stop();
        expect(code).toBe(0);
        if (platform) expect(await containersOf(docker, platform.instance)).toEqual([]);
      }, 60_000);

      it('has the strict profile, and the function’s limits once it is assigned', async () => {
        const stateDir = join(platform.dir, 'state');
        // The generic container must be up before the call, so that the call is given it.
        const generic = async () =>
          (await containersOf(docker, platform.instance)).filter((c) => c.State.Running).length > 0;
        for (let i = 0; i < 300 && !(await generic()); i++) await new Promise((r) => setTimeout(r, 100));
        // Running is not yet connected: give its runtime a moment to say hello.
        await new Promise((r) => setTimeout(r, 1500));
        await invoke(platform, 'warmed');
        const all = (await containersOf(docker, platform.instance)).filter((c) => c.State.Running);
        const assigned = all.filter((c) => c.HostConfig.Memory === 96 * MiB);
        expect(assigned, 'exactly one container carries the function’s memory limit').toHaveLength(1);
        expect(assigned[0]?.Config.Labels['faas.pool'], 'the call was served by the generic container').toBe(
          'generic',
        );
        expectStrictProfile(assigned[0] as Inspect, { memoryBytes: 96 * MiB, cpu: 0.25, stateDir });
        for (const other of all.filter((c) => c !== assigned[0])) {
          expectStrictProfile(other, {
            memoryBytes: other.HostConfig.Memory ?? 0,
            cpu: (other.HostConfig.NanoCpus ?? 0) / 1e9,
            stateDir,
          });
        }
      });
    });
  });
});
