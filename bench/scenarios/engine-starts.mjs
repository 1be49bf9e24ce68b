/**
 * The Docker engine's own time to start N containers of the runtime image, with the pool's
 * profile: the pool's driver (dist/pool/docker-driver.js) creates and starts each, with the limits,
 * tmpfs, log cap, no network and socket mount the pool gives a function container, `concurrency`
 * at a time (the pool asks for FAAS_START_CONCURRENCY starts at once). Each runtime connects to a
 * socket the benchmark holds, as it would to its host, so the containers keep running like the
 * pool's until they are removed.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerDriver } from '../../dist/pool/docker-driver.js';
import { EngineApi } from '../../dist/pool/engine-api.js';
import { engineAddress } from '../../dist/pool/engine-host.js';
import { now, within } from '../lib/clock.mjs';
import { removeContainersWith } from '../lib/docker.mjs';
import { bounded } from '../lib/http.mjs';

const MiB = 1024 * 1024;

/**
 * @param {{ count: number, label: [string, string], name: string, concurrency?: number }} o label
 *   marks every container (removed by it at the end, whatever happened); name prefixes their names
 * @returns {Promise<{ image: string, startedMs: number, connectedMs: number, removedMs: number }>}
 */
export async function engineStarts(o) {
  // Its own agent without keep-alive, destroyed at the end: no idle engine connection outlives this.
  const agent = new Agent({ keepAlive: false });
  const driver = new DockerDriver(new EngineApi(engineAddress(process.env), { agent }));
  try {
    // The image the platform itself resolves (FAAS_RUNTIME_IMAGE, or the one built for this runtime).
    const image = await driver.runtimeImage(process.env.FAAS_RUNTIME_IMAGE);
    return { image, ...(await startAll(driver, image, o)) };
  } finally {
    agent.destroy();
  }
}

/**
 * @param {DockerDriver} driver
 * @param {string} image
 * @param {{ count: number, label: [string, string], name: string, concurrency?: number }} o
 */
async function startAll(driver, image, o) {
  const dir = await mkdtemp(join(tmpdir(), 'faas-bench-engine-'));
  await chmod(dir, 0o755);
  const sockets = new Set();
  let connected = 0;
  /** @type {() => void} */
  let allConnected = () => undefined;
  const everyoneIn = new Promise((resolve) => (allConnected = () => resolve(undefined)));
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    if (++connected === o.count) allConnected();
  });
  await new Promise((resolve) => server.listen(join(dir, 'host.sock'), () => resolve(undefined)));
  await chmod(join(dir, 'host.sock'), 0o777);
  /** @type {string[]} */
  const ids = [];
  try {
    const t0 = now();
    const failed = await bounded(o.count, o.concurrency ?? o.count, async (i) => {
      const id = await driver.run({
        name: `${o.name}-${i + 1}`,
        image,
        labels: { [o.label[0]]: o.label[1] },
        limits: { memoryBytes: 128 * MiB, cpu: 1, pids: 128 },
        socketDir: dir,
        env: {},
        network: 'none',
        tmpfsBytes: 64 * MiB,
        logMaxBytes: MiB,
      });
      ids.push(id);
    });
    const startedMs = now() - t0;
    if (failed) throw new Error(`${failed} of ${o.count} containers failed to start`);
    await within(everyoneIn, 60_000, undefined);
    const connectedMs = connected === o.count ? now() - t0 : NaN;
    const t1 = now();
    await bounded(ids.length, o.concurrency ?? ids.length, (i) => driver.remove(ids[i]));
    return { startedMs, connectedMs, removedMs: now() - t1 };
  } finally {
    await removeContainersWith(`${o.label[0]}=${o.label[1]}`);
    for (const s of sockets) s.destroy();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
