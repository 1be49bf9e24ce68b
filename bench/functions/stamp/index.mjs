// Returns when the handler started (epoch ms with microseconds, the host's clock), and the object
// keys of a bucket event: the warm-path breakdown and the bucket benchmark compare it with the
// times they saw outside.
import { performance } from 'node:perf_hooks';

export async function handler(event) {
  const startedAt = performance.timeOrigin + performance.now();
  // Keys arrive URL-encoded, as S3 sends them.
  const keys = (event?.Records ?? []).map((r) => decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')));
  return { startedAt, keys };
}
