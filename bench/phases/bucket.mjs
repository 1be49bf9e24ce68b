/**
 * The bucket platform: MinIO's webhook target posts bucket events only to 127.0.0.1:8080, so this
 * platform listens there with the token services:up wrote (what test/helpers' bucketEventsEnv does).
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
 * Environment for a platform that receives MinIO's bucket events.
 * @param {string} stateDir the services' state dir (where services:up wrote the token)
 */
async function bucketEventsEnv(stateDir) {
  const file = join(stateDir, 'minio-events.token');
  const token = await readFile(file, 'utf8').catch(() => {
    throw new Error(`no MinIO event token at ${file}: start the services with \`npm run services:up\``);
  });
  await waitFor(`port ${EVENTS_PORT} to be free (another platform is using it)`, async () =>
    (await portFree()) ? true : undefined,
    { timeoutMs: 120_000, everyMs: 500 },
  );
  return { FAAS_MINIO_EVENTS_TOKEN: token.trim() };
}

/** @param {import('./main.mjs').Ctx} ctx */
export async function bucketPhase(ctx) {
  const { n, sizes, figures, extra, log } = ctx;
  const bucket = bucketName(ctx);
  const env = await bucketEventsEnv(ctx.config.stateDir);
  log(`bucket platform on :${EVENTS_PORT}: starting`);
  const p = await startPlatform({
    instance: `${ctx.run}-bucket`,
    functions: bucketManifest(n, bucket),
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
    log(`bucket platform: ${sizes.reps} × (${sizes.bucket.sequential} single + ${sizes.bucket.sustained} sustained uploads)`);
    /** @type {Map<string, number>} */
    const putAt = new Map();
    for (let rep = 0; rep < sizes.reps; rep++) {
      const r = await bucketRep(c, { rep, ...sizes.bucket });
      for (const [k, v] of r.putAt) putAt.set(k, v);
      figures.add('bucket', 'uploads_per_s', r.uploadsPerS);
    }
    const { starts, failed } = await handlerStarts(ctx.redis, 'faas', `fn.${n.stamp}`);
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
    if (failed) ctx.notes.bucket_failed_invocations = failed;
  } finally {
    const s = await p.stop();
    if (s.leftovers) ctx.notes.bucket_leftover_containers = s.leftovers;
    client.destroy();
  }
}

/**
 * Removes the run's bucket: its notification configuration, its objects, the bucket.
 * @param {import('./main.mjs').Ctx} ctx
 */
export async function cleanupBucket(ctx) {
  const bucket = bucketName(ctx);
  const client = s3(ctx.config);
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
  } finally {
    client.destroy();
  }
}
