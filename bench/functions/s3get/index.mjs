// Times GetObject through the container's S3 endpoint, as Lambda code calls it: `count` reads of
// `key`, one after another, each body read to its end. Returns each read's milliseconds and the
// bytes read, so the benchmark can compare them with the same calls made from the host.
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { performance } from 'node:perf_hooks';

const s3 = new S3Client({});

export async function handler({ bucket, key, count, warmup }) {
  const samples = [];
  let bytes = 0;
  for (let i = 0; i < warmup + count; i++) {
    const t0 = performance.now();
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    let n = 0;
    for await (const chunk of res.Body) n += chunk.length;
    if (i >= warmup) {
      samples.push(performance.now() - t0);
      bytes += n;
    }
  }
  return { samples, bytes };
}
