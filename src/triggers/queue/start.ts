import type { Redis } from 'ioredis';
import type { FunctionSpec, QueueTrigger } from '../../manifest/types.js';
import type { Logger } from '../../observability/logger.js';
import type { Enqueue } from '../../queue/enqueue.js';
import { Schedules } from '../schedule/scheduler.js';
import type { ConsumerOptions, ConsumerState, QueueConsumer } from './contract.js';

/** Each broker's URL when a trigger names no variable: the local services. */
export interface BrokerDefaults {
  amqp: string;
  nats: string;
  redis: string;
}

/** Raised at start for a trigger whose URL variable is not set. */
export class BrokerUrlMissing extends Error {
  override name = 'BrokerUrlMissing';
}

/**
 * The URL a queue trigger connects to: the value of the variable it names, or the default.
 * @example brokerUrl({ broker: 'amqp', url: 'ORDERS_URL', ... }, env, defaults)
 */
export function brokerUrl(
  t: QueueTrigger,
  env: Record<string, string | undefined>,
  defaults: BrokerDefaults,
): string {
  if (t.url === undefined) return defaults[t.broker];
  const value = env[t.url];
  if (!value) {
    throw new BrokerUrlMissing(
      `the queue trigger on ${t.name} reads its ${t.broker} URL from ${t.url}, which is not set: set it, or remove url to use the local service`,
    );
  }
  return value;
}

/** `/healthz`'s view: broken consumers counted by broker, never named (it answers without a token). */
export function queueHealth(states: ConsumerState[]): { ok: boolean; ms: number; error?: string } {
  const down = new Map<string, number>();
  for (const s of states) if (!s.connected) down.set(s.broker, (down.get(s.broker) ?? 0) + 1);
  if (down.size === 0) return { ok: true, ms: 0 };
  const list = [...down].map(([broker, n]) => `${n} ${broker}`).join(', ');
  return { ok: false, ms: 0, error: `queue consumers disconnected: ${list}; see /status` };
}

export interface MessageTriggersOptions {
  functions: FunctionSpec[];
  sink: Enqueue;
  /** Invocations of a function waiting now. */
  backlog: (fn: string) => Promise<number>;
  defaults: BrokerDefaults;
  /** Where trigger `url` variables are looked up. */
  env: Record<string, string | undefined>;
  /** This process's consumer name (its instance id). */
  consumer: string;
  region: string;
  /** A new BullMQ connection for the schedules. */
  connection: () => Redis;
  /** The cluster (FAAS_CLUSTER): its schedules are its own. @defaultValue 'faas' */
  cluster?: string;
  logger: Logger;
}

export interface MessageTriggers {
  consumers: QueueConsumer[];
  schedules: Schedules;
  /** Per consumer, for `/status`. */
  state(): ConsumerState[];
  stop(): Promise<void>;
}

/** Creates the consumer of a queue trigger for its broker. */
/**
 * The consumer for a trigger's broker. Each broker's client is loaded only when a trigger uses
 * it: a platform without queue triggers holds none of them in memory.
 */
async function consumerFor(options: ConsumerOptions): Promise<QueueConsumer> {
  switch (options.trigger.broker) {
    case 'amqp':
      return new (await import('./amqp.js')).AmqpConsumer(options);
    case 'nats':
      return new (await import('./nats.js')).NatsConsumer(options);
    case 'redis':
      return new (await import('./redis-streams.js')).RedisStreamConsumer(options);
  }
}

/**
 * Starts a consumer for every queue trigger and puts every schedule in place, in a process that
 * runs listeners; each queue's messages are shared among all such processes. Resolves once each
 * consumer is consuming or has failed its first attempt (it goes on retrying).
 */
export async function startMessageTriggers(o: MessageTriggersOptions): Promise<MessageTriggers> {
  const consumers: QueueConsumer[] = [];
  for (const spec of o.functions) {
    for (const trigger of spec.triggers) {
      if (trigger.type !== 'queue') continue;
      consumers.push(
        await consumerFor({
          fn: spec.name,
          trigger,
          url: brokerUrl(trigger, o.env, o.defaults),
          sink: o.sink,
          backlog: () => o.backlog(spec.name),
          region: o.region,
          consumer: o.consumer,
          logger: o.logger,
        }),
      );
    }
  }
  const schedules = new Schedules({
    functions: o.functions,
    connection: o.connection,
    cluster: o.cluster,
    sink: o.sink,
    region: o.region,
    logger: o.logger,
  });
  await schedules.reconcile();
  schedules.start();
  await Promise.all(consumers.map((c) => c.start()));
  return {
    consumers,
    schedules,
    state: () => consumers.map((c) => c.state()),
    stop: async () => {
      await Promise.all(consumers.map((c) => c.stop()));
      await schedules.close();
    },
  };
}
