// Records when the handler started, for the bucket benchmark: PutObject returned → handler started.
export async function handler(event) {
  const startedAt = Date.now();
  return { startedAt, keys: event.Records.map((r) => r.s3.object.key) };
}
