/**
 * The message brokers in tests: checks that fail with the command that starts the shared ones,
 * brokers of a test's own (on their own ports, so restarting them disturbs nobody), and
 * publishers that retry until the broker has stored a message, as real publishers do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect as amqpConnect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { Redis } from 'ioredis';
import {
  connect as natsConnect,
  headers as natsHeaders,
  StorageType,
  type JetStreamClient,
  type NatsConnection,
} from 'nats';
import type { Broker } from '../../src/triggers/queue/record.js';
import { streamNameFor } from '../../src/triggers/queue/nats.js';
import { config } from './services.js';

const START = 'start it with `npm run services:up`';
export const AMQP_URL = process.env.FAAS_AMQP_URL ?? 'amqp://127.0.0.1:5672';
export const NATS_URL = process.env.FAAS_NATS_URL ?? 'nats://127.0.0.1:4222';

/** Fails, naming the command that starts it, when the shared broker does not answer. */
export async function requireBroker(broker: Broker, url = defaultUrl(broker)): Promise<void> {
  try {
    if (broker === 'amqp') await (await amqpConnect(url, { timeout: 3000 })).close();
    else if (broker === 'nats')
      await (await natsConnect({ servers: url, timeout: 3000, reconnect: false })).close();
    else {
      const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => undefined);
      try {
        await r.connect();
      } finally {
        r.disconnect();
      }
    }
  } catch (err) {
    throw new Error(`${broker} is not reachable at ${url} (${(err as Error).message}): ${START}`);
  }
}

export function defaultUrl(broker: Broker): string {
  return broker === 'amqp' ? AMQP_URL : broker === 'nats' ? NATS_URL : config.REDIS_URL;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A broker process of a test's own, restartable on the same data. */
export interface OwnBroker {
  url: string;
  pid(): number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function waitUp(
  what: string,
  ok: () => Promise<boolean>,
  child: ChildProcess,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (!(await ok())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`${what} did not start (exit ${child.exitCode}):\n${log().slice(-3000)}`);
    }
    await sleep(200);
  }
}

/** The broker's server program, or an error naming the command that installs it. */
function program(path: string): string {
  const found = path.includes('/')
    ? existsSync(path)
    : (process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, path)));
  if (!found) throw new Error(`${path} is not installed: ${START.replace('start', 'install')}`);
  return path;
}

function own(what: string, url: string, run: () => ChildProcess, ok: () => Promise<boolean>): OwnBroker {
  let child: ChildProcess | undefined;
  let out = '';
  return {
    url,
    pid: () => child?.pid ?? 0,
    async start() {
      out = '';
      child = run();
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      await waitUp(what, ok, child, () => out);
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await Promise.race([exited, sleep(30_000).then(() => c.kill('SIGKILL'))]);
      await exited;
    },
  };
}

/**
 * A RabbitMQ node of the test's own on `port`, its Erlang distribution on `distPort` (both on
 * loopback only; RabbitMQ's default, port + 20000, is past 65535 for a high free port).
 */
export async function ownRabbit(port: number, distPort: number, dir: string): Promise<OwnBroker> {
  await mkdir(join(dir, 'mnesia'), { recursive: true });
  await writeFile(join(dir, 'enabled_plugins'), '[].');
  const url = `amqp://127.0.0.1:${port}`;
  return own(
    `rabbitmq on ${port}`,
    url,
    () =>
      spawn(program('/usr/lib/rabbitmq/bin/rabbitmq-server'), [], {
        // Erlang writes erl_crash.dump to its working directory: keep it in the test's own.
        cwd: dir,
        env: {
          ...process.env,
          HOME: dir,
          RABBITMQ_NODENAME: `faastest${port}@localhost`,
          RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
          RABBITMQ_NODE_PORT: String(port),
          RABBITMQ_DIST_PORT: String(distPort),
          ERL_EPMD_ADDRESS: '127.0.0.1',
          RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
          RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
          RABBITMQ_LOG_BASE: dir,
          RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
          RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
          RABBITMQ_CONF_ENV_FILE: '/dev/null',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    () =>
      requireBroker('amqp', url).then(
        () => true,
        () => false,
      ),
  );
}

/** A NATS server with JetStream of the test's own. */
export function ownNats(port: number, dir: string): OwnBroker {
  const url = `nats://127.0.0.1:${port}`;
  return own(
    `nats on ${port}`,
    url,
    () =>
      spawn(program('nats-server'), ['-js', '-a', '127.0.0.1', '-p', String(port), '--store_dir', dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    () =>
      requireBroker('nats', url).then(
        () => true,
        () => false,
      ),
  );
}

/** A Redis of the test's own, append-only so a restart keeps what it acknowledged. */
export function ownRedis(port: number, dir: string): OwnBroker {
  const url = `redis://127.0.0.1:${port}`;
  return own(
    `redis on ${port}`,
    url,
    () =>
      spawn(
        program('redis-server'),
        [
          '--bind',
          '127.0.0.1',
          '--port',
          String(port),
          '--dir',
          dir,
          '--appendonly',
          'yes',
          '--appendfsync',
          'always',
          '--save',
          '',
          '--maxmemory-policy',
          'noeviction',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    () =>
      requireBroker('redis', url).then(
        () => true,
        () => false,
      ),
  );
}

/**
 * A Redis Cluster of the test's own: one master per port (no replicas), each append-only in its
 * own folder under `dir`, its cluster bus on the matching `busPorts` (the default, port + 10000,
 * is past 65535 for a high free port). The first start creates the cluster; later ones bring the same nodes
 * back (their nodes.conf and data), and `start` resolves once every node is `cluster_state:ok`.
 * `stop` ends every node with SIGTERM, which persists the append-only file as `shutdown` does.
 */
export function ownRedisCluster(ports: number[], busPorts: number[], dir: string): OwnBroker {
  const url = `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  const nodes = ports.map((port, i) => {
    const nodeDir = join(dir, String(port));
    const node = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    node.on('error', () => undefined);
    /** The node's `cluster info`, or undefined while it does not answer. */
    const info = async () => {
      try {
        if (node.status !== 'ready') await node.connect();
        return (await node.cluster('INFO')) as string;
      } catch {
        node.disconnect();
        return undefined;
      }
    };
    const server = own(
      `redis cluster node on ${port}`,
      `redis://127.0.0.1:${port}`,
      () =>
        spawn(
          program('redis-server'),
          [
            ...['--bind', '127.0.0.1', '--port', String(port), '--dir', nodeDir],
            ...['--cluster-enabled', 'yes', '--cluster-port', String(busPorts[i])],
            ...['--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'],
            ...[
              '--appendonly',
              'yes',
              '--appendfsync',
              'always',
              '--save',
              '',
              '--maxmemory-policy',
              'noeviction',
            ],
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      async () => (await info()) !== undefined,
    );
    return { port, nodeDir, server, info, close: () => node.disconnect() };
  });
  const state = async (n: (typeof nodes)[number]) =>
    /^cluster_state:(\w+)/m.exec((await n.info()) ?? '')?.[1];
  return {
    url,
    pid: () => nodes[0]?.server.pid() ?? 0,
    async start() {
      for (const n of nodes) await mkdir(n.nodeDir, { recursive: true });
      await Promise.all(nodes.map((n) => n.server.start()));
      // Nodes that know only themselves are a new cluster: give them the slots.
      if (/^cluster_known_nodes:1\s*$/m.test((await nodes[0]!.info()) ?? '')) {
        const create = spawn(
          program('redis-cli'),
          [
            '--cluster',
            'create',
            ...ports.map((p) => `127.0.0.1:${p}`),
            '--cluster-replicas',
            '0',
            '--cluster-yes',
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        create.stdout?.on('data', (d: Buffer) => (out += d.toString()));
        create.stderr?.on('data', (d: Buffer) => (out += d.toString()));
        const code = await new Promise((r) => create.once('exit', r));
        if (code !== 0)
          throw new Error(`redis-cli --cluster create exited with ${code}:\n${out.slice(-3000)}`);
      }
      const deadline = Date.now() + 60_000;
      while (!(await Promise.all(nodes.map(state))).every((st) => st === 'ok')) {
        if (Date.now() > deadline)
          throw new Error(`the Redis Cluster on ${ports.join(',')} did not become ok`);
        await sleep(200);
      }
    },
    async stop() {
      for (const n of nodes) n.close();
      await Promise.all(nodes.map((n) => n.server.stop()));
    },
  };
}

/** Publishes messages with a publisher-set id; `publish` resolves once the broker stored it. */
export interface Publisher {
  publish(id: string, body: string): Promise<void>;
  close(): Promise<void>;
}

/** Publishes until it works: reconnects and retries while the broker is away. */
export async function publisher(broker: Broker, url: string, name: string): Promise<Publisher> {
  const p =
    broker === 'amqp'
      ? amqpPublisher(url, name)
      : broker === 'nats'
        ? natsPublisher(url, name)
        : redisPublisher(url, name);
  return {
    async publish(id, body) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await p.publish(id, body);
        } catch (err) {
          if (attempt > 600) throw err;
          await p.reset();
          await sleep(100);
        }
      }
    },
    close: () => p.close(),
  };
}

interface RawPublisher {
  publish(id: string, body: string): Promise<void>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

function amqpPublisher(url: string, queue: string): RawPublisher {
  let conn: Promise<{ model: ChannelModel; ch: ConfirmChannel }> | undefined;
  const open = async () => {
    const model = await amqpConnect(url, { timeout: 3000 });
    model.on('error', () => undefined);
    const ch = await model.createConfirmChannel();
    ch.on('error', () => undefined);
    // Declared as the platform declares it: without a queue, RabbitMQ drops what is published.
    await ch.assertQueue(queue, { durable: true });
    return { model, ch };
  };
  return {
    async publish(id, body) {
      conn ??= open();
      const { ch } = await conn;
      await new Promise<void>((resolve, reject) => {
        ch.sendToQueue(queue, Buffer.from(body), { messageId: id, persistent: true }, (err) =>
          err ? reject(err) : resolve(),
        );
      });
    },
    async reset() {
      const c = conn;
      conn = undefined;
      await c?.then((x) => x.model.close()).catch(() => undefined);
    },
    async close() {
      await this.reset();
    },
  };
}

/**
 * Publishes one message of raw bytes with headers (AMQP header values as given; NATS ones as
 * text), on its own connection, confirmed by the broker before it returns.
 */
export async function publishBytes(
  broker: 'amqp' | 'nats',
  url: string,
  name: string,
  body: Uint8Array,
  headers: Record<string, unknown>,
): Promise<void> {
  if (broker === 'amqp') {
    const model = await amqpConnect(url, { timeout: 3000 });
    try {
      const ch = await model.createConfirmChannel();
      await ch.assertQueue(name, { durable: true });
      ch.sendToQueue(name, Buffer.from(body), { headers });
      await ch.waitForConfirms();
    } finally {
      await model.close().catch(() => undefined);
    }
    return;
  }
  const nc = await natsConnect({ servers: url, timeout: 3000 });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams
      .find(name)
      .catch(() =>
        jsm.streams.add({ name: streamNameFor(name), subjects: [name], storage: StorageType.File }),
      );
    const h = natsHeaders();
    for (const [k, v] of Object.entries(headers)) h.set(k, String(v));
    await nc.jetstream().publish(name, body, { headers: h, timeout: 3000 });
  } finally {
    await nc.close();
  }
}

function natsPublisher(url: string, subject: string): RawPublisher {
  let conn: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;
  const open = async () => {
    const nc = await natsConnect({
      servers: url,
      timeout: 3000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 200,
    });
    const jsm = await nc.jetstreamManager();
    // The stream the platform would create, so messages published before it starts are kept.
    await jsm.streams
      .find(subject)
      .catch(() =>
        jsm.streams.add({ name: streamNameFor(subject), subjects: [subject], storage: StorageType.File }),
      );
    return { nc, js: nc.jetstream() };
  };
  return {
    async publish(id, body) {
      conn ??= open();
      const { js } = await conn;
      await js.publish(subject, new TextEncoder().encode(body), { msgID: id, timeout: 3000 });
    },
    async reset() {
      const c = conn;
      conn = undefined;
      await c?.then((x) => x.nc.close()).catch(() => undefined);
    },
    async close() {
      await this.reset();
    },
  };
}

/**
 * Redis stream entries get publisher-set ids: `<start ms>-<n>`, the same for the same message id.
 * Publishing an entry id again is refused by Redis (it is not above the last one): the entry is
 * already there. Publish one message at a time: ids must rise.
 */
function redisPublisher(url: string, key: string): RawPublisher {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => 200,
  });
  redis.on('error', () => undefined);
  const base = Date.now();
  const entryIds = new Map<string, string>();
  return {
    async publish(id, body) {
      let entry = entryIds.get(id);
      if (!entry) entryIds.set(id, (entry = `${base}-${entryIds.size + 1}`));
      try {
        await redis.xadd(key, entry, 'body', body, 'id', id);
      } catch (err) {
        if (!/equal or smaller/.test((err as Error).message)) throw err;
      }
    },
    async reset() {},
    async close() {
      redis.disconnect();
    },
  };
}
