/**
 * The bucket platform: MinIO's webhook targets (set up by services:up: one posting each event at
 * once, one from its durable on-disk queue) post only to 127.0.0.1:8080, so this platform listens
 * there with the token services:up wrote (what test/helpers' bucketEventsEnv does).
 */
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from '../lib/clock.mjs';
import { startPlatform } from '../lib/platform.mjs';
import { finishedCount } from '../lib/redis.mjs';
import { quantile } from '../lib/stats.mjs';
import { bucketManifest } from '../plan.mjs';
import { bucketRep, handlerStarts, putToStart } from '../scenarios/bucket.mjs';

const EVENTS_PORT = 8080;

/** @param {import('./main.mjs').Ctx} ctx */
const bucketName = (ctx) => `${ctx.run}-bench`;

/** @param {import('./main.mjs').Ctx['config']} config */
function s3(config) {
  return new S3Client({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
  });
}

/** Resolves true once nothing listens on 127.0.0.1:8080 (tests use it too). */
function portFree() {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(EVENTS_PORT, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * Environment for a platform that receives MinIO's bucket events through the webhook target.
 * @param {string} stateDir the services' state dir (where services:up wrote the token)
 */
async function bucketEventsEnv(stateDir) {
  const file = join(stateDir, 'minio-events.token');
  const token = await readFile(file, 'utf8').catch(() => {
    throw new Error(`no MinIO event token at ${file}: start the services with \`npm run services:up\``);
  });
  await waitFor(
    `port ${EVENTS_PORT} to be free (another platform is using it)`,
    async () => ((await portFree()) ? true : undefined),
    { timeoutMs: 120_000, everyMs: 500 },
  );
  return { FAAS_PORT: String(EVENTS_PORT), FAAS_MINIO_EVENTS_TOKEN: token.trim() };
}

/**
 * Bucket events through MinIO's durable webhook target: a platform on :8080 with one
 * bucket-triggered function, warmed (2 containers, 10 uploads), then the repetitions.
 * @param {import('./main.mjs').Ctx} ctx
 */
export async function bucketPhase(ctx) {
  const { n, sizes, figures, extra, log } = ctx;
  const bucket = bucketName(ctx);
  const env = await bucketEventsEnv(ctx.config.stateDir);
  log(`bucket platform on :${EVENTS_PORT}: starting`);
  const p = await startPlatform({
    instance: `${ctx.run}-bucket`,
    functions: bucketManifest(n.stamp, bucket),
    prewarm: 1,
    port: EVENTS_PORT,
    env,
  });
  const client = s3(ctx.config);
  const queueKey = `faas:fn.${n.stamp}`;
  const c = { s3: client, bucket, redis: ctx.redis, queueKey };
  try {
    await waitFor(`${n.stamp} to have 2 warm containers`, async () =>
      ((await p.containers(n.stamp)).ready ?? 0) >= 2 ? true : undefined,
    );
    for (let i = 0; i < 10; i++)
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `warmup/${i}.txt`, Body: 'warm-up' }));
    await waitFor('the warm-up uploads to be processed', async () =>
      (await finishedCount(ctx.redis, queueKey)).total >= 10 ? true : undefined,
    );
    const b = sizes.bucket;
    log(`bucket platform: ${sizes.reps} × (${b.trickle} single + ${b.sustained} sustained uploads)`);
    /** @type {Map<string, number>} */
    const putAt = new Map();
    for (let rep = 0; rep < sizes.reps; rep++) {
      const r = await bucketRep(c, { rep, ...b });
      for (const [k, v] of r.putAt) putAt.set(k, v);
      figures.add('bucket', 'uploads_per_s', r.uploadsPerS);
      // MinIO answers a PutObject only after its event is delivered or queued (sync events).
      extra.add('bucket', 'put_object_p50_ms', quantile(r.putMs, 0.5));
    }
    const { starts, failed } = await handlerStarts(ctx.redis, 'faas', `fn.${n.stamp}`);
    if (failed) ctx.notes.bucket_failed_invocations = failed;
    for (let rep = 0; rep < sizes.reps; rep++) {
      const single = putToStart(putAt, starts, `lat/${rep}/`);
      const sustained = putToStart(putAt, starts, `bulk/${rep}/`);
      figures.add('bucket', 'put_to_start_p50_ms', single.p50);
      figures.add('bucket', 'put_to_start_p99_ms', single.p99);
      extra.add('bucket', 'sustained_put_to_start_p50_ms', sustained.p50);
      extra.add('bucket', 'sustained_put_to_start_p99_ms', sustained.p99);
      if (single.missing || sustained.missing)
        ctx.notes[`bucket_rep${rep + 1}_unprocessed`] = single.missing + sustained.missing;
    }
  } finally {
    const s = await p.stop();
    if (s.leftovers) ctx.notes.bucket_leftover_containers = s.leftovers;
    client.destroy();
  }
}

/**
 * Removes the run's bucket: notification configuration, objects, the bucket.
 * @param {import('./main.mjs').Ctx} ctx
 */
export async function cleanupBucket(ctx) {
  const client = s3(ctx.config);
  try {
    await removeBucket(client, bucketName(ctx));
  } finally {
    client.destroy();
  }
}

/**
 * @param {S3Client} client
 * @param {string} bucket
 */
async function removeBucket(client, bucket) {
  try {
    await client.send(
      new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: {} }),
    );
    for (;;) {
      const list = await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
      const keys = (list.Contents ?? []).map((o) => ({ Key: o.Key }));
      if (keys.length === 0) break;
      await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if (/** @type {{ name?: string }} */ (err).name !== 'NoSuchBucket') throw err;
  }
}
