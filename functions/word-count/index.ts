// Counts words in an uploaded text file and writes the top ten next to it in `summaries`.
// Typed with @types/aws-lambda: an S3Handler, as on AWS.
import type { Context, S3Handler } from 'aws-lambda';

/** The platform's storage shortcut on the context (what this handler uses of it). */
interface Storage {
  getObject(bucket: string, key: string): Promise<{ body: Buffer }>;
  putObject(bucket: string, key: string, body: string, o?: { contentType?: string }): Promise<unknown>;
}

export const handler: S3Handler = async (event, context) => {
  const { storage } = context as Context & { storage: Storage };
  let total = 0;
  for (const record of event.Records) {
    // S3 events carry the key URL-encoded ("my notes.txt" arrives as "my+notes.txt").
    const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
    const { body } = await storage.getObject(record.s3.bucket.name, key);
    const counts = new Map<string, number>();
    for (const word of body
      .toString('utf8')
      .toLowerCase()
      .match(/\p{L}+/gu) ?? []) {
      counts.set(word, (counts.get(word) ?? 0) + 1);
      total++;
    }
    const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 10);
    await storage.putObject('summaries', `${key}.words.json`, JSON.stringify({ total, top }), {
      contentType: 'application/json',
    });
  }
  console.log(`counted ${total} words`);
};
