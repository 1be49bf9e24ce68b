import { canonicalJson } from '../deploy/versions.js';
import type { FunctionSpec } from '../manifest/types.js';
import { ensureBuckets, functionBuckets } from '../storage/buckets.js';
import { S3Gateway } from '../storage/s3-gateway.js';
import { CatchUp } from '../triggers/bucket/catchup.js';
import { bucketDelivery, type BucketDelivery } from '../triggers/bucket/delivery.js';
import { BucketListener } from '../triggers/bucket/listener.js';
import { configureTargets, TARGET_ARN } from '../triggers/bucket/target.js';
import { queueHealth, startMessageTriggers, type MessageTriggers } from '../triggers/queue/start.js';
import { parseDuration } from '../util/duration.js';
import { serial, type RoleContext } from './roles.js';
import { minioClient, readTargetEndpoint, readTargetToken } from './services.js';

/** The bucket event machinery for one set of bucket triggers. */
interface BucketEvents {
  mode: BucketDelivery['mode'];
  fallback?: string;
  listener?: BucketListener;
  /** The token MinIO's webhook target sends (webhook mode). */
  token?: string;
  stop(): Promise<void>;
}

export interface ListenersRole {
  /** The token `/minio/events` requires, once bucket triggers use MinIO's webhook target. */
  targetToken(): string | undefined;
  /** For `/status`: how bucket events arrive (null without bucket triggers). */
  bucketEvents(): unknown;
  queueTriggers(): unknown;
  nextRuns(): Promise<Record<string, number>>;
  /** The listeners' parts of `/healthz`. */
  health(): Record<string, { ok: boolean; ms: number; error?: string }>;
}

/** What a subsystem depends on: it restarts only when this changes. */
function triggerKey(specs: readonly FunctionSpec[], types: string[]): string {
  return canonicalJson(
    specs
      .map((s) => ({ name: s.name, triggers: s.triggers.filter((t) => types.includes(t.type)) }))
      .filter((s) => s.triggers.length > 0),
  );
}

/**
 * The listeners: bucket events (MinIO's webhook target, or its listen API with a catch-up
 * listing), queue consumers and schedules. Each part restarts with the new triggers when a deploy
 * changes them, at the moment the deploy lands; a deploy that leaves them alone leaves them be.
 */
export async function startListeners(
  ctx: RoleContext,
  closers: Array<() => Promise<unknown>>,
): Promise<ListenersRole> {
  const { config, log, functions } = ctx;
  const endpoint = await readTargetEndpoint(config.stateDir);

  const startBuckets = async (specs: FunctionSpec[]): Promise<BucketEvents | undefined> => {
    if (!specs.some((s) => s.triggers.some((t) => t.type === 'bucket'))) return undefined;
    const delivery = bucketDelivery({
      configured: config.FAAS_BUCKET_EVENTS,
      targetEndpoint: endpoint,
      bindHost: config.apiHost,
      port: config.FAAS_PORT,
    });
    if (delivery.fallback) log.warn(delivery.fallback);
    const mode = delivery.mode;
    const parts: Array<() => Promise<unknown>> = [];
    const stop = async () => {
      for (const p of parts.reverse())
        await p().catch((err: Error) => log.warn({ err: err.message }, 'stop step failed'));
    };
    try {
      // A fallback lists often: it stands in for the durable queue, and some MinIO builds hold
      // listen-stream events back in batches.
      const every =
        config.FAAS_CATCHUP_INTERVAL ??
        (mode === 'poll' || delivery.fallback ? '2s' : mode === 'listen' ? '30s' : undefined);
      let catchUp: CatchUp | undefined;
      if (every) {
        const gateway = new S3Gateway(ctx.s3);
        catchUp = new CatchUp({
          redis: ctx.redis,
          list: (b, p, n) => gateway.list(b, p, n),
          functions: specs,
          sink: ctx.sink,
          logger: log,
        });
        await catchUp.start(parseDuration(every));
        const c = catchUp;
        parts.push(async () => c.stop());
        log.info({ every, mode }, 'catching up on uploads by listing buckets');
      }
      let listener: BucketListener | undefined;
      let token: string | undefined;
      if (mode === 'listen') {
        const c = catchUp;
        listener = new BucketListener({
          client: minioClient(config),
          functions: specs,
          sink: ctx.sink,
          logger: log,
          onConnect: () =>
            void c
              ?.run()
              .catch((err: Error) => log.warn({ err: err.message }, 'catch-up after reconnect failed')),
        });
        await listener.start();
        const l = listener;
        parts.push(() => l.stop());
      } else if (mode === 'webhook') {
        token = config.FAAS_MINIO_EVENTS_TOKEN ?? (await readTargetToken(config.stateDir));
        const buckets = await configureTargets(minioClient(config), specs);
        log.info({ buckets, target: TARGET_ARN }, 'MinIO posts bucket events to /minio/events');
      }
      return { mode, fallback: delivery.fallback, listener, token, stop };
    } catch (err) {
      await stop();
      throw err;
    }
  };

  const startMessages = (specs: FunctionSpec[]) =>
    startMessageTriggers({
      functions: specs,
      sink: ctx.sink,
      backlog: async (fn) => (await ctx.producer.backlog(fn)).waiting,
      defaults: { amqp: config.FAAS_AMQP_URL, nats: config.FAAS_NATS_URL, redis: config.REDIS_URL },
      env: ctx.secrets,
      consumer: ctx.instance,
      region: config.S3_REGION,
      connection: () => ctx.redis.duplicate(),
      cluster: config.FAAS_CLUSTER,
      logger: log,
    });

  const ensure = async (specs: readonly FunctionSpec[]) => {
    const created = await ensureBuckets(ctx.s3, functionBuckets(specs));
    if (created.length) log.info({ buckets: created }, 'created buckets the functions name');
  };

  let specs = [...functions.all()];
  await ensure(specs);
  let buckets = await startBuckets(specs);
  let messages: MessageTriggers | undefined = await startMessages(specs);
  let bucketKey = triggerKey(specs, ['bucket']);
  let messageKey = triggerKey(specs, ['queue', 'schedule']);

  const apply = serial(log, 'apply a deploy to the triggers');
  const onChange = (): void => {
    void apply(async () => {
      specs = [...functions.all()];
      await ensure(specs);
      const nextBuckets = triggerKey(specs, ['bucket']);
      if (nextBuckets !== bucketKey) {
        bucketKey = nextBuckets;
        const old = buckets;
        buckets = undefined;
        await old?.stop();
        buckets = await startBuckets(specs);
        log.info('bucket triggers changed: bucket events follow the new ones');
      }
      const nextMessages = triggerKey(specs, ['queue', 'schedule']);
      if (nextMessages !== messageKey) {
        messageKey = nextMessages;
        const old = messages;
        messages = undefined;
        await old?.stop();
        messages = await startMessages(specs);
        log.info('queue and schedule triggers changed: consumers and schedules follow the new ones');
      }
    });
  };
  functions.on('change', onChange);
  closers.push(async () => {
    functions.off('change', onChange);
    await apply(async () => undefined);
    await messages?.stop();
    await buckets?.stop();
  });

  return {
    targetToken: () => buckets?.token,
    bucketEvents: () =>
      buckets
        ? {
            mode: buckets.mode,
            fallback: buckets.fallback ?? null,
            streams: buckets.listener?.state() ?? null,
          }
        : null,
    queueTriggers: () => messages?.state() ?? null,
    nextRuns: async () => (messages ? messages.schedules.nextRuns() : {}),
    health: () => {
      const checks: Record<string, { ok: boolean; ms: number; error?: string }> = {};
      // Named buckets stay out of /healthz (it answers without the token): /status has them.
      if (buckets?.listener) {
        const down = Object.values(buckets.listener.state()).filter((b) => !b.connected).length;
        checks.bucketEvents = down
          ? { ok: false, ms: 0, error: `${down} bucket stream(s) disconnected; see /status` }
          : { ok: true, ms: 0 };
      }
      // Like buckets: /healthz names the broker kinds that are down, /status the triggers.
      if (messages?.consumers.length) checks.queues = queueHealth(messages.state());
      return checks;
    },
  };
}
