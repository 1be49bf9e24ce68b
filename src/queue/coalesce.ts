import type { Writable } from 'node:stream';
import type { Cluster, Redis } from 'ioredis';
import { coalesceWrites, holdTurn } from '../runtime/coalesce.js';

/** Connections (and clusters) whose every socket coalesces its writes. */
const watched = new WeakSet<Redis | Cluster>();

/**
 * Sends the commands a connection is given in one turn of the event loop in at most two writes
 * (see coalesceWrites), on every socket it opens: each reconnection's, and each node's of a
 * cluster. For connections many callers share, such as the one every worker completes its jobs
 * and writes its records on and the one every request queues its event on. Commands still go, and
 * are answered, in order and one by one.
 * @example coalesceCommands(redis);
 */
export function coalesceCommands(redis: Redis | Cluster): void {
  if (watched.has(redis)) return;
  watched.add(redis);
  if (redis.isCluster) {
    const cluster = redis as Cluster;
    for (const node of cluster.nodes()) coalesceCommands(node);
    cluster.on('+node', (node: Redis) => coalesceCommands(node));
    return;
  }
  const single = redis as Redis & { stream?: Writable };
  if (single.stream) coalesceWrites(single.stream);
  single.on('connect', () => {
    if (single.stream) coalesceWrites(single.stream);
  });
}

/**
 * Holds the rest of this turn's commands on a coalescing connection, the next one included, to go
 * out in one write at the turn's end (see holdTurn). A cluster's commands are not held: which node's
 * socket the next one takes is not known here.
 */
export function holdCommands(redis: Redis | Cluster): void {
  if (redis.isCluster) return;
  const stream = (redis as Redis & { stream?: Writable }).stream;
  if (stream) holdTurn(stream);
}
