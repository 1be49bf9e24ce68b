// Returns when the handler started (epoch ms with microseconds, the host's clock), and the object
// keys of a bucket event: the warm-path breakdown and the bucket benchmark compare it with the
// times they saw outside.
import { performance } from 'node:perf_hooks';

export async function handler(event) {
  const startedAt = performance.timeOrigin + performance.now();
  return { startedAt, keys: (event?.Records ?? []).map((r) => r.s3.object.key) };
}
