// Returns when the handler started (epoch ms with microseconds, the host's clock), and the object
// keys of a bucket event: the warm-path breakdown and the bucket benchmark compare it with the
// times they saw outside.
import { performance } from 'node:perf_hooks';

export async function handler(event) {
  // performance.timeOrigin is the wall clock when the process started: if the host's clock has
  // been stepped since, the monotonic sum is off by that much. Then the wall clock's own
  // millisecond (and half of one) is the better guess.
  const precise = performance.timeOrigin + performance.now();
  const wall = Date.now();
  const startedAt = precise >= wall && precise < wall + 1 ? precise : wall + 0.5;
  // Keys arrive URL-encoded, as S3 sends them.
  const keys = (event?.Records ?? []).map((r) => decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')));
  return { startedAt, keys };
}
