/**
 * MinIO's event endpoint on real Redis: one malformed record in a batch costs only itself; the
 * batch's valid records are queued, and the answer and the metrics say what was refused.
 */
import { Hono } from 'hono';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { countingEnqueue } from '../../src/queue/counting.js';
import { Producer } from '../../src/queue/producer.js';
import { minioTargetRoute } from '../../src/triggers/bucket/target.js';
import { fnSpec } from '../helpers/spec.js';
import { requireRedis } from '../helpers/services.js';

const FN = `batch-${Math.random().toString(36).slice(2, 8)}`;
const TOKEN = 'a-token-of-sixteen-chars-or-more';

function record(key: string): unknown {
  return {
    eventVersion: '2.0',
    eventSource: 'minio:s3',
    awsRegion: '',
    eventTime: new Date().toISOString(),
    eventName: 's3:ObjectCreated:Put',
    s3: {
      s3SchemaVersion: '1.0',
      bucket: { name: 'uploads' },
      object: { key, size: 3, eTag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '18EBEDAE0082D93A' },
    },
  };
}

describe('POST /minio/events with a partly malformed batch', () => {
  let redis: Redis;
  let producer: Producer;

  beforeAll(async () => {
    redis = await requireRedis();
  });
  afterAll(async () => {
    await producer?.queue(FN).obliterate({ force: true });
    await producer?.close();
    redis?.disconnect();
  });

  it('queues the valid records, refuses the malformed ones, and counts both', async () => {
    const spec = fnSpec(FN, {
      triggers: [
        { type: 'bucket', bucket: 'uploads', events: ['s3:ObjectCreated:*'], prefix: '', suffix: '' },
      ],
    });
    producer = new Producer(redis, { [FN]: spec }, 60);
    const counts: Record<string, number> = {};
    let invalid = 0;
    const app = new Hono();
    minioTargetRoute(app, {
      token: TOKEN,
      functions: [spec],
      enqueue: countingEnqueue(producer, (source, outcome, n) => {
        counts[`${source}/${outcome}`] = (counts[`${source}/${outcome}`] ?? 0) + n;
      }),
      logger: silentLogger,
      bodyLimit: 1 << 20,
      onInvalid: (n) => (invalid += n),
    });
    const body = {
      Records: [
        record('a.csv'),
        { eventName: 's3:ObjectCreated:Put' },
        record('b%20c.csv'),
        record('bad%E0%A4%A.csv'),
        null,
        record('d.csv'),
      ],
    };
    const res = await app.request('/minio/events', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as {
      accepted: number;
      ids: string[];
      rejected: Array<{ index: number }>;
    };
    expect(answer.accepted).toBe(3);
    expect(answer.rejected.map((r) => r.index)).toEqual([1, 3, 4]);
    const jobs = await Promise.all(answer.ids.map((id) => producer.queue(FN).getJob(id)));
    expect(
      jobs
        .map((j) => (j?.data as { record: { s3: { object: { key: string } } } }).record.s3.object.key)
        .sort(),
    ).toEqual(['a.csv', 'b c.csv', 'd.csv']);
    expect(counts).toEqual({ 'bucket/queued': 3 });
    expect(invalid).toBe(3);

    const garbage = await app.request('/minio/events', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"Records": "no"}',
    });
    expect(garbage.status).toBe(200);
    expect(((await garbage.json()) as { accepted: number }).accepted).toBe(0);
    expect(invalid).toBe(4);
  });
});
