/**
 * Coalesced commands on real Redis (`npm run test:cluster` runs it on the 3-master cluster too):
 * a turn's commands go out in at most two writes per socket, every reply reaches its own caller
 * in order, a lone command is not held, and a reconnected socket coalesces as the first did.
 */
import type { Socket } from 'node:net';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coalesceCommands } from '../../src/queue/coalesce.js';
import { connectRedis } from '../../src/queue/redis.js';
import { requireRedis, uniqueName } from '../helpers/services.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Every socket of a connection (one per node of a cluster), with the writes each handed to the system. */
function spyWrites(redis: Redis): Map<Socket, number> {
  const counts = new Map<Socket, number>();
  const nodes = redis.isCluster ? (redis as unknown as Cluster).nodes() : [redis];
  for (const node of nodes) {
    const stream = (node as unknown as { stream: Socket }).stream;
    counts.set(stream, 0);
    const s = stream as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
    for (const k of ['_write', '_writev'] as const) {
      const orig = s[k].bind(stream);
      s[k] = (...a: unknown[]) => {
        counts.set(stream, (counts.get(stream) ?? 0) + 1);
        return orig(...a);
      };
    }
  }
  return counts;
}

describe('coalesceCommands', () => {
  let probe: Redis;
  let redis: Redis;
  // One hash slot for every key of the test (a cluster refuses a DEL across slots).
  const key = `{${uniqueName('coalesce')}}`;

  beforeAll(async () => {
    probe = await requireRedis();
    redis = connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'faas:test-coalesce');
    redis.on('error', () => undefined);
    coalesceCommands(redis);
    await redis.ping();
  });

  afterAll(async () => {
    await probe.del(key, `${key}:list`);
    await probe.quit();
    await redis.quit();
  });

  it('sends a turn of 300 commands in two writes per socket, each answered in order', async () => {
    // Every node's socket is open before counting (a cluster opens them lazily).
    if (redis.isCluster) await Promise.all((redis as unknown as Cluster).nodes().map((n) => n.ping()));
    const writes = spyWrites(redis);
    const replies = Array.from({ length: 300 }, (_, i) =>
      i % 3 === 2 ? redis.rpush(`${key}:list`, String(i)) : redis.incr(key),
    );
    await turn();
    for (const n of writes.values()) expect(n).toBeLessThanOrEqual(2);
    expect([...writes.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const got = await Promise.all(replies);
    // incr answers 1, 2, 3, ... and rpush the list's length, each to its own caller.
    let incr = 0;
    let pushed = 0;
    got.forEach((v, i) => expect(v).toBe(i % 3 === 2 ? ++pushed : ++incr));
    expect(await redis.lrange(`${key}:list`, 0, -1)).toEqual(
      Array.from({ length: 100 }, (_, i) => String(i * 3 + 2)),
    );
  });

  it('sends a lone command at once', async () => {
    const writes = spyWrites(redis);
    const reply = redis.set(key, 'alone');
    const sent = [...writes.values()].reduce((a, b) => a + b, 0);
    expect(sent).toBe(1);
    expect(await reply).toBe('OK');
  });

  it('coalesces on the sockets of new connections after the old ones are cut', async () => {
    const after = `${key}:after`;
    await redis.incr(after);
    const nodes = (): Redis[] => (redis.isCluster ? (redis as unknown as Cluster).nodes() : [redis]);
    const streamOf = (n: Redis) => (n as unknown as { stream: Socket }).stream;
    const before = new Set(nodes().map(streamOf));
    // Each connection (on a cluster, each node's) is cut by the Redis it talks to.
    for (const n of nodes()) {
      const id = await n.client('ID');
      await n.call('CLIENT', 'KILL', 'ID', String(id), 'SKIPME', 'no').catch(() => undefined);
    }
    const deadline = Date.now() + 10_000;
    const renewed = () =>
      nodes().length > 0 && nodes().every((n) => n.status === 'ready' && !before.has(streamOf(n)));
    while (!renewed() && Date.now() < deadline) {
      await redis.ping().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(renewed()).toBe(true);
    const writes = spyWrites(redis);
    const replies = Array.from({ length: 50 }, () => redis.incr(after));
    await turn();
    for (const n of writes.values()) expect(n).toBeLessThanOrEqual(2);
    // The key's socket: the first command at once, the other 49 in one more write.
    expect(Math.max(...writes.values())).toBe(2);
    expect(await Promise.all(replies)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    await redis.del(after);
  });
});
