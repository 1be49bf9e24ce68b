/**
 * The S3 endpoint inside containers: a platform (any free port) with one function granted read
 * on the run's bucket; 1 KB and 10 MB objects read from inside its container and from the host.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { startPlatform } from '../lib/platform.mjs';
import { quantile } from '../lib/stats.mjs';
import { s3Manifest } from '../plan.mjs';
import { containerGets, hostGets, mbPerS } from '../scenarios/s3.mjs';

const OBJECTS = { small: ['obj/1kb.bin', 1024], large: ['obj/10mb.bin', 10 * 1024 * 1024] };

/** @param {import('./main.mjs').Ctx} ctx */
export const s3BucketName = (ctx) => `${ctx.run}-s3`;

/** @param {import('./main.mjs').Ctx['config']} config */
function client(config) {
  return new S3Client({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
  });
}

/** @param {import('./main.mjs').Ctx} ctx */
export async function s3Phase(ctx) {
  const { n, sizes, figures, log } = ctx;
  const bucket = s3BucketName(ctx);
  const s3 = client(ctx.config);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const [key, size] of Object.values(OBJECTS))
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: randomBytes(size) }));
  log('s3 platform: starting');
  const p = await startPlatform({
    instance: `${ctx.run}-s3`,
    functions: s3Manifest(n.s3, bucket),
    prewarm: 0,
  });
  try {
    for (let i = 0; i < sizes.reps; i++) {
      log(`s3 endpoint: repetition ${i + 1}/${sizes.reps}`);
      const small = { bucket, key: OBJECTS.small[0], count: sizes.s3.small, warmup: sizes.s3.warmup };
      const large = { bucket, key: OBJECTS.large[0], count: sizes.s3.large, warmup: 1 };
      const cSmall = await containerGets(p.url, n.s3, small);
      const hSmall = await hostGets(s3, small);
      const cLarge = await containerGets(p.url, n.s3, large);
      const hLarge = await hostGets(s3, large);
      figures.add('s3_endpoint', 'get_1kb_p50_ms', quantile(cSmall.samples, 0.5));
      figures.add('s3_endpoint', 'host_get_1kb_p50_ms', quantile(hSmall.samples, 0.5));
      figures.add('s3_endpoint', 'get_10mb_mb_per_s', mbPerS(cLarge));
      figures.add('s3_endpoint', 'host_get_10mb_mb_per_s', mbPerS(hLarge));
    }
  } finally {
    await p.stop();
    s3.destroy();
  }
}

/** @param {import('./main.mjs').Ctx} ctx */
export async function cleanupS3Bucket(ctx) {
  const s3 = client(ctx.config);
  try {
    for (const [key] of Object.values(OBJECTS))
      await s3.send(new DeleteObjectCommand({ Bucket: s3BucketName(ctx), Key: key })).catch(() => undefined);
    await s3.send(new DeleteBucketCommand({ Bucket: s3BucketName(ctx) })).catch((err) => {
      if (err.name !== 'NoSuchBucket') throw err;
    });
  } finally {
    s3.destroy();
  }
}
