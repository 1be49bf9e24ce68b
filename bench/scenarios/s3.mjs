/**
 * GetObject through the in-container S3 endpoint (runtime → unix socket → host proxy → MinIO)
 * against the same call from the host straight to MinIO: p50 of a 1 KB object, throughput of a
 * 10 MB one. Both sides use the same SDK, read every body to its end, and run one call at a time.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { invoke } from '../lib/http.mjs';
import { now } from '../lib/clock.mjs';

/**
 * GetObject of `key` `warmup + count` times from this process; the measured reads' milliseconds.
 * @param {import('@aws-sdk/client-s3').S3Client} s3
 * @param {{ bucket: string, key: string, count: number, warmup: number }} o
 * @returns {Promise<{ samples: number[], bytes: number }>}
 */
export async function hostGets(s3, { bucket, key, count, warmup }) {
  const samples = [];
  let bytes = 0;
  for (let i = 0; i < warmup + count; i++) {
    const t0 = now();
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    let n = 0;
    for await (const chunk of /** @type {AsyncIterable<Uint8Array>} */ (res.Body)) n += chunk.length;
    if (i >= warmup) {
      samples.push(now() - t0);
      bytes += n;
    }
  }
  return { samples, bytes };
}

/**
 * The same reads inside a warm container of `fn` (bench/functions/s3get), timed there.
 * @param {string} base
 * @param {string} fn
 * @param {{ bucket: string, key: string, count: number, warmup: number }} o
 * @returns {Promise<{ samples: number[], bytes: number }>}
 */
export async function containerGets(base, fn, o) {
  const r = await invoke(base, fn, o);
  if (r.status !== 200) throw new Error(`invoke ${fn} answered ${r.status}: ${r.body}`);
  return JSON.parse(r.body);
}

/** MB/s of a series of whole-body reads. @param {{ samples: number[], bytes: number }} r */
export const mbPerS = (r) => r.bytes / 1e6 / (r.samples.reduce((a, b) => a + b, 0) / 1000);
