// Counts words in an uploaded text file and writes the top ten next to it in `summaries`.
interface S3Event {
  Records: Array<{ s3: { bucket: { name: string }; object: { key: string } } }>;
}
interface Context {
  storage: {
    getObject(bucket: string, key: string): Promise<{ body: Buffer }>;
    putObject(bucket: string, key: string, body: string, o?: { contentType?: string }): Promise<unknown>;
  };
}

export async function handler(event: S3Event, context: Context): Promise<{ words: number }> {
  let total = 0;
  for (const record of event.Records) {
    const { key } = record.s3.object;
    const { body } = await context.storage.getObject(record.s3.bucket.name, key);
    const counts = new Map<string, number>();
    for (const word of body
      .toString('utf8')
      .toLowerCase()
      .match(/\p{L}+/gu) ?? []) {
      counts.set(word, (counts.get(word) ?? 0) + 1);
      total++;
    }
    const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 10);
    await context.storage.putObject('summaries', `${key}.words.json`, JSON.stringify({ total, top }), {
      contentType: 'application/json',
    });
  }
  return { words: total };
}
