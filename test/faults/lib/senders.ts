/**
 * Event senders for the fault scenarios: paced bursts of async invokes or uploads, each event
 * retried until accepted, as real webhook senders and uploaders do.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { config } from '../../helpers/services.js';
import { sleep } from './wait.js';

/** What a sender saw while it delivered a burst. */
export interface Burst {
  /** Events whose first attempt has started. */
  started: number;
  /** Events the platform (or MinIO) accepted. */
  accepted: number;
  /** Attempts refused with a retryable answer: 503 for invokes, any error for uploads. */
  rejected: number;
  /** Attempts that reached no server (connection refused or reset). */
  unreachable: number;
  /** Answers no sender should get (4xx, 500, a hung request); the test fails on any. */
  unexpected: string[];
  /** Invocation id per accepted key (invokes). */
  ids: Map<string, string>;
  /** When each key was accepted. */
  acceptedAt: Map<string, number>;
  done: Promise<void>;
}

/** Exponential backoff with jitter, as webhook senders retry. */
function backoff(attempt: number): number {
  return Math.min(2000, 200 * 2 ** attempt) * (0.5 + Math.random() / 2);
}

function newBurst(): Burst {
  return {
    started: 0,
    accepted: 0,
    rejected: 0,
    unreachable: 0,
    unexpected: [],
    ids: new Map(),
    acceptedAt: new Map(),
    done: Promise.resolve(),
  };
}

/**
 * Sends one async invocation per key, the i-th at `i * paceMs`, each with its key as the
 * Idempotency-Key. A 503 or a connection error is retried (honouring Retry-After, at most 5 s)
 * until accepted: a repeat of an accepted event is the same job and does not run twice.
 */
export function sendInvokes(
  url: string,
  fn: string,
  keys: string[],
  paceMs: number,
  deadlineMs = 150_000,
): Burst {
  const b = newBurst();
  const t0 = Date.now();
  const one = async (key: string, i: number) => {
    await sleep(t0 + i * paceMs - Date.now());
    b.started++;
    for (let attempt = 0; ; attempt++) {
      if (Date.now() - t0 > deadlineMs) {
        b.unexpected.push(`${key}: not accepted within ${deadlineMs} ms`);
        return;
      }
      let wait = backoff(attempt);
      try {
        const res = await fetch(`${url}/functions/${fn}/invoke?async=1`, {
          method: 'POST',
          headers: { 'Idempotency-Key': key, 'Content-Type': 'application/json' },
          body: JSON.stringify({ key }),
          signal: AbortSignal.timeout(15_000),
        });
        const body = await res.text();
        if (res.status === 202) {
          b.ids.set(key, (JSON.parse(body) as { id: string }).id);
          b.acceptedAt.set(key, Date.now());
          b.accepted++;
          return;
        }
        if (res.status === 503) {
          b.rejected++;
          const after = Number(res.headers.get('retry-after'));
          if (after > 0) wait = Math.min(5000, after * 1000) * (0.8 + Math.random() / 5);
        } else b.unexpected.push(`${key}: ${res.status} ${body.slice(0, 200)}`);
      } catch (err) {
        if ((err as Error).name === 'TimeoutError') b.unexpected.push(`${key}: no answer within 15 s`);
        else b.unreachable++;
      }
      await sleep(wait);
    }
  };
  b.done = Promise.all(keys.map(one)).then(() => undefined);
  return b;
}

/** An S3 client that fails fast (no SDK retries, short timeouts): the uploader retries itself. */
export function testS3(): S3Client {
  return new S3Client({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 },
  });
}

/** Uploads one object per key, the i-th at `i * paceMs`; a failed upload is retried until it succeeds. */
export function uploadKeys(
  s3: S3Client,
  bucket: string,
  keys: string[],
  paceMs: number,
  deadlineMs = 150_000,
): Burst {
  const b = newBurst();
  const t0 = Date.now();
  const one = async (key: string, i: number) => {
    await sleep(t0 + i * paceMs - Date.now());
    b.started++;
    for (let attempt = 0; ; attempt++) {
      if (Date.now() - t0 > deadlineMs) {
        b.unexpected.push(`${key}: not uploaded within ${deadlineMs} ms`);
        return;
      }
      try {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` }));
        b.acceptedAt.set(key, Date.now());
        b.accepted++;
        return;
      } catch {
        b.rejected++;
      }
      await sleep(backoff(attempt));
    }
  };
  b.done = Promise.all(keys.map(one)).then(() => undefined);
  return b;
}

/** `n` input keys: `<prefix>0000`, `<prefix>0001`, ... */
export function inputKeys(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);
}
