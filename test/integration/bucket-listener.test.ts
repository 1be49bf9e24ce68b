/**
 * The bucket listener against the real MinIO: keys that need encoding arrive exactly as uploaded,
 * routing by prefix and suffix, server-side and in-code filtering, reconnects, missing buckets.
 *
 * The MinIO built here (after minio/minio#21651) does not flush listen streams: records leave the
 * server only in ~2 KB blocks, so the last few events of a burst wait for more bytes. Each wait
 * below therefore keeps uploading small "flush" objects, which the stream carries after the
 * events under test; as MinIO publishes in upload order, the first flush object to arrive proves
 * that everything uploaded before it has been delivered.
 */
import http from 'node:http';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BucketTrigger, FunctionSpec } from '../../src/manifest/types.js';
import type { Enqueue, RoutedEvent } from '../../src/queue/enqueue.js';
import { BucketListener, type BucketListenerOptions } from '../../src/triggers/bucket/listener.js';
import { StoreApi } from '../../src/triggers/bucket/store-api.js';
import { s3ProxyOptions } from '../../src/platform/services.js';
import { bucketDedupKey } from '../../src/triggers/bucket/record.js';
import { fnSpec } from '../helpers/spec.js';
import { config, requireMinio, uniqueName } from '../helpers/services.js';

class RecordingSink implements Enqueue {
  readonly events: RoutedEvent[] = [];
  failNext = 0;
  async enqueue(events: RoutedEvent[]): Promise<string[]> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('queue unavailable');
    }
    this.events.push(...events);
    return events.map((_, i) => `id-${this.events.length + i}`);
  }
  keys(fn: string): string[] {
    return this.events.filter((e) => e.functionName === fn).map((e) => keyOf(e));
  }
}

function keyOf(e: RoutedEvent): string {
  if (e.payload.source !== 'bucket') throw new Error(`not a bucket event: ${e.payload.source}`);
  return e.payload.record.s3.object.key;
}

function bucketTrigger(bucket: string, over: Partial<BucketTrigger> = {}): BucketTrigger {
  return { type: 'bucket', bucket, events: ['s3:ObjectCreated:*'], prefix: '', suffix: '', ...over };
}

function minioClient(): StoreApi {
  return new StoreApi(s3ProxyOptions(config));
}

function captureLogs() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let s3: S3Client;
const buckets: string[] = [];
const listeners: BucketListener[] = [];

beforeAll(async () => {
  s3 = await requireMinio();
});
afterAll(() => s3?.destroy());

afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.stop()));
  for (const Bucket of buckets.splice(0)) {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket })).catch(() => undefined);
    const objects = (listed?.Contents ?? []).map((o) => ({ Key: o.Key as string }));
    if (objects.length) await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: objects } }));
    await s3.send(new DeleteBucketCommand({ Bucket })).catch(() => undefined);
  }
});

async function newBucket(create = true): Promise<string> {
  const Bucket = uniqueName('listen');
  buckets.push(Bucket);
  if (create) await s3.send(new CreateBucketCommand({ Bucket }));
  return Bucket;
}

async function put(
  Bucket: string,
  Key: string,
  Body = `body of ${Key}`,
): Promise<{ size: number; eTag: string }> {
  const res = await s3.send(new PutObjectCommand({ Bucket, Key, Body }));
  return { size: Buffer.byteLength(Body), eTag: (res.ETag ?? '').replaceAll('"', '') };
}

function listen(functions: FunctionSpec[], sink: Enqueue, over: Partial<BucketListenerOptions> = {}) {
  const logs = captureLogs();
  const listener = new BucketListener({
    client: minioClient(),
    functions,
    sink,
    logger: logs.logger,
    ...over,
  });
  listeners.push(listener);
  return { listener, logs };
}

/**
 * Polls until `done()` holds, uploading one flush object (see the file comment) per round;
 * fails after the deadline with what `describe()` reports.
 */
async function until(
  what: string,
  done: () => boolean,
  flush: { bucket: string; key: (n: number) => string },
  describe: () => unknown,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let n = 0; !done(); n++) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(describe())}`);
    await put(flush.bucket, flush.key(n), 'flush');
    await sleep(100);
  }
}

describe('BucketListener on MinIO', () => {
  it('delivers exactly the matching uploads once, with the exact key, size and eTag', async () => {
    const bucket = await newBucket();
    const sink = new RecordingSink();
    const fn = fnSpec('csv', { triggers: [bucketTrigger(bucket, { prefix: 'in/', suffix: '.csv' })] });
    const { listener } = listen([fn], sink);
    const matching = [
      'in/plain.csv',
      'in/with space.csv',
      'in/plus+sign.csv',
      'in/a+b c.csv',
      'in/100% done.csv',
      'in/lit%20eral.csv',
      'in/données/été ☃.csv',
      'in/a/b/c.csv',
      'in/日本語 ファイル.csv',
      'in/emoji 🚀.csv',
      "in/quote'and(paren)*.csv",
      'in/semi;colon=eq&amp#hash.csv',
    ];
    const other = [
      'plain.csv',
      'in/plain.txt',
      'in/x.csv.bak',
      'out/in/x.csv',
      'IN/x.csv',
      'in/x.CSV',
      'données/été ☃.csv',
      'in%2Fx.csv',
    ];
    await listener.start();
    // Uploads start the moment start() resolves: the first ones prove nothing is missed.
    const uploaded = new Map<string, { size: number; eTag: string }>();
    for (let i = 0; i < Math.max(matching.length, other.length); i++) {
      for (const key of [matching[i], other[i]]) if (key) uploaded.set(key, await put(bucket, key));
    }
    const isFlush = (k: string) => k.startsWith('in/~flush-');
    await until(
      'a flush object after the uploads',
      () => sink.keys('csv').some(isFlush),
      { bucket, key: (n) => `in/~flush-${n}.csv` },
      () => sink.keys('csv'),
    );

    const arrived = sink.events.filter((e) => !isFlush(keyOf(e)));
    expect(arrived.map(keyOf).sort()).toEqual([...matching].sort());
    for (const e of arrived) {
      if (e.payload.source !== 'bucket') throw new Error('not a bucket event');
      const { record } = e.payload;
      expect(e.functionName).toBe('csv');
      expect(record.eventName).toBe('ObjectCreated:Put');
      expect(record.s3.bucket.name).toBe(bucket);
      expect({ size: record.s3.object.size, eTag: record.s3.object.eTag }).toEqual(
        uploaded.get(record.s3.object.key),
      );
      expect(e.dedupKey).toBe(bucketDedupKey(record));
      expect(e.payload.enqueuedAt).toBeGreaterThan(0);
    }
    expect(listener.state()).toEqual({ [bucket]: { connected: true, reconnects: 0 } });
  });

  it('routes two functions on one bucket by prefix, and removals only where asked', async () => {
    const bucket = await newBucket();
    const sink = new RecordingSink();
    const functions = [
      fnSpec('left', { triggers: [bucketTrigger(bucket, { prefix: 'left/' })] }),
      fnSpec('right', { triggers: [bucketTrigger(bucket, { prefix: 'right/', suffix: '.csv' })] }),
      fnSpec('cleanup', {
        triggers: [bucketTrigger(bucket, { prefix: 'left/', events: ['s3:ObjectRemoved:*'] })],
      }),
      fnSpec('flush', { triggers: [bucketTrigger(bucket, { prefix: '~flush/' })] }),
    ];
    const { listener } = listen(functions, sink);
    await listener.start();
    for (const key of [
      'left/a b.csv',
      'right/a+b.csv',
      'left/ünï.txt',
      'right/deep/x.csv',
      'right/x.txt',
      'leftover/x',
    ]) {
      await put(bucket, key);
    }
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'left/a b.csv' }));
    await until(
      'a flush object',
      () => sink.keys('flush').length > 0,
      { bucket, key: (n) => `~flush/${n}` },
      () => sink.events.map((e) => [e.functionName, keyOf(e)]),
    );

    expect(sink.keys('left')).toEqual(['left/a b.csv', 'left/ünï.txt']);
    expect(sink.keys('right')).toEqual(['right/a+b.csv', 'right/deep/x.csv']);
    expect(sink.keys('cleanup')).toEqual(['left/a b.csv']);
    const removal = sink.events.find((e) => e.functionName === 'cleanup');
    expect(removal?.payload.source === 'bucket' && removal.payload.record.eventName).toBe(
      'ObjectRemoved:Delete',
    );
  });

  it('reconnects after the connection drops, and later uploads still arrive', async () => {
    const bucket = await newBucket();
    const sink = new RecordingSink();
    const agent = new http.Agent();
    const fn = fnSpec('watch', { triggers: [bucketTrigger(bucket)] });
    const { listener, logs } = listen([fn], sink, { agent, backoff: { initialMs: 100, maxMs: 1000 } });
    await listener.start();
    await put(bucket, 'before');
    const flushKey = (tag: string) => ({ bucket, key: (n: number) => `~flush-${tag}-${n}` });
    await until(
      'the first upload',
      () => sink.keys('watch').includes('before'),
      flushKey('a'),
      () => sink.keys('watch'),
    );

    // Cut the TCP connection under the stream, as a network failure or a MinIO restart would.
    const sockets = Object.values(agent.sockets).flat();
    expect(sockets).toHaveLength(1);
    for (const socket of sockets) socket?.destroy();
    await until(
      'the stream to reconnect',
      () => listener.state()[bucket]?.reconnects === 1,
      flushKey('b'),
      () => listener.state(),
    );
    await listener.ready();
    const reconnectLog = logs.lines.find((l) => l.level === 40 && String(l.msg).includes('reconnecting'));
    expect(reconnectLog).toMatchObject({ bucket, attempt: 1 });

    await put(bucket, 'after');
    await until(
      'the upload after the reconnect',
      () => sink.keys('watch').includes('after'),
      flushKey('c'),
      () => sink.keys('watch'),
    );
    expect(
      sink
        .keys('watch')
        .filter((k) => !k.startsWith('~flush'))
        .sort(),
    ).toEqual(['after', 'before']);
    expect(listener.state()[bucket]).toMatchObject({ connected: true, reconnects: 1 });

    await listener.stop();
    expect(Object.values(agent.sockets).flat()).toHaveLength(0);
    agent.destroy();
  });

  it('keeps retrying a bucket that does not exist yet, and listens once it is created', async () => {
    const bucket = await newBucket(false);
    const sink = new RecordingSink();
    const fn = fnSpec('late', { triggers: [bucketTrigger(bucket)] });
    const { listener, logs } = listen([fn], sink, { backoff: { initialMs: 50, maxMs: 200 } });
    await listener.start();
    expect(listener.state()[bucket]).toMatchObject({
      connected: false,
      lastError: expect.stringContaining('NoSuchBucket'),
    });
    expect(
      logs.lines.some((l) => l.msg === `bucket ${bucket} does not exist: create it or fix triggers`),
    ).toBe(true);

    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await listener.ready();
    await put(bucket, 'first');
    await until(
      'the first upload',
      () => sink.keys('late').includes('first'),
      { bucket, key: (n) => `~flush-${n}` },
      () => sink.keys('late'),
    );
    expect(listener.state()[bucket]?.reconnects).toBeGreaterThan(0);
  });

  it('logs a failed enqueue and keeps the stream and the order of later events', async () => {
    const bucket = await newBucket();
    const sink = new RecordingSink();
    sink.failNext = 1;
    const fn = fnSpec('ordered', { triggers: [bucketTrigger(bucket)] });
    const { listener, logs } = listen([fn], sink);
    await listener.start();
    const keys = ['0-lost', '1', '2', '3', '4', '5'];
    for (const key of keys) await put(bucket, key);
    await until(
      'a flush object',
      () => sink.keys('ordered').some((k) => k.startsWith('~')),
      { bucket, key: (n) => `~${n}` },
      () => sink.keys('ordered'),
    );

    expect(sink.keys('ordered').filter((k) => !k.startsWith('~'))).toEqual(keys.slice(1));
    expect(logs.lines.find((l) => l.level === 50)).toMatchObject({
      key: '0-lost',
      msg: expect.stringContaining('lost'),
    });
    expect(listener.state()[bucket]).toMatchObject({ connected: true, reconnects: 0 });
  });
});

describe('StoreApi.listenUrl on MinIO', () => {
  it('is accepted whatever order the events are given in (the signer sorts them)', async () => {
    const bucket = await newBucket();
    const api = minioClient();
    for (const events of [
      ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
      ['s3:ObjectRemoved:*', 's3:ObjectCreated:*'],
      ['s3:ObjectRemoved:*', 's3:ObjectCreated:Put', 's3:ObjectCreated:*'],
    ]) {
      const url = await api.listenUrl(bucket, { events, ping: '10' }, 60);
      // A refusal (403 SignatureDoesNotMatch) answers at once; an accepted stream answers 200, or,
      // on a MinIO build that does not flush listen streams, nothing until its first events.
      const status = await new Promise<number | 'streaming'>((resolve, reject) => {
        const req = http.get(url, (res) => {
          clearTimeout(timer);
          resolve(res.statusCode ?? 0);
          res.destroy();
        });
        const timer = setTimeout(() => {
          resolve('streaming');
          req.destroy();
        }, 3000);
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      });
      expect([200, 'streaming'], `${events.join(',')}: ${status}`).toContain(status);
    }
  });
});
