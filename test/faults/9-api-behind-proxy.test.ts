/**
 * Fault 9: one of two API processes behind the HTTPS front door (HAProxy, deploy/haproxy) killed
 * with SIGKILL during a burst of webhook posts, async and sync mixed, each with an idempotency
 * key. Requests the dead process had taken answer 502 (or their connection drops) and the sender
 * retries them, as webhook senders do; new ones go to the survivor. In the end every post ran
 * exactly once in effect. The API takes the client's address from X-Forwarded-For only because
 * the proxy is in FAAS_TRUSTED_PROXIES: a hop the client forges is ignored.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Agent } from 'node:https';
import { request as httpRequest } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deadLetters,
  httpsRequest,
  inputKeys,
  report,
  seconds,
  settle,
  shortName,
  sleep,
  startFaas,
  startFrontDoor,
  until,
  scenario,
  FAST_TAKEOVER_ENV,
  type FaasProcess,
  type FrontDoor,
} from './harness.js';

const N = 2000;
/** The test's client connects from this loopback address; the proxy reaches the APIs from 127.0.0.1. */
const CLIENT = '127.0.0.2';
const FORGED = '203.0.113.66';

function manifest(fn: string, out: string): string {
  return `version: 1
functions:
  ${fn}:
    handler: keyed/index.handler
    timeout: 10s
    concurrency: 8
    scale: { min: 0, max: 4, idleTimeout: 60s }
    retry: { attempts: 3, backoff: 200ms, maxBackoff: 2s }
    env: { OUT_BUCKET: ${out}, DELAY_MS: "20" }
    storage: { write: [${out}] }
    triggers:
      - webhook: { path: /hooks/${fn}/async, method: POST, mode: async }
      - webhook: { path: /hooks/${fn}/sync, method: POST, mode: sync, idempotencyHeader: X-Delivery-Id }
`;
}

/** What the sender saw over the burst. */
interface Posts {
  /** Keys whose first attempt did not succeed. */
  retried: Set<string>;
  attempts: number;
  /** Failed attempts by what failed: HTTP status or `connection`. */
  failures: Record<string, number>;
  /** When the last failed attempt happened. */
  lastFailureAt: number;
  unexpected: string[];
}

/** Backoff with jitter, as webhook senders retry. */
const backoff = (attempt: number) => Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);

describe('fault 9: an API process behind the HTTPS front door killed with SIGKILL', () => {
  const fn = shortName('door');
  const out = shortName('fault9-out');
  const sc = scenario({ fns: [fn], buckets: [out], manifest: () => manifest(fn, out) });
  const { procs } = sc;
  let apis: FaasProcess[];
  let door: FrontDoor | undefined;

  beforeAll(async () => {
    const env = { FAAS_TRUSTED_PROXIES: '127.0.0.1' };
    apis = await Promise.all([startFaas('api', sc.dir, env), startFaas('api', sc.dir, env)]);
    procs.push(...apis);
    procs.push(await startFaas('worker', sc.dir, FAST_TAKEOVER_ENV));
    door = await startFrontDoor(
      sc.dir,
      apis.map((a) => a.url as string),
    );
  }, 120_000);

  it('every post runs exactly once in effect; what failed is retried by the sender', async () => {
    const frontDoor = door as FrontDoor;
    try {
      const agent = new Agent({ ca: frontDoor.ca, keepAlive: true, maxSockets: 64, localAddress: CLIENT });
      const keys = inputKeys('p-', N);
      const posts: Posts = {
        retried: new Set(),
        attempts: 0,
        failures: {},
        lastFailureAt: 0,
        unexpected: [],
      };
      let started = 0;
      const t0 = Date.now();
      const post = async (key: string, i: number) => {
        await sleep(t0 + i * 6 - Date.now());
        started++;
        const sync = i % 2 === 1;
        const headers: Record<string, string> = {
          'Content-Type': 'application/json',
          // A hop the client writes itself: the platform must not believe it.
          'X-Forwarded-For': FORGED,
          ...(sync ? { 'X-Delivery-Id': key } : { 'Idempotency-Key': key }),
        };
        for (let attempt = 0; ; attempt++) {
          if (Date.now() - t0 > 150_000) {
            posts.unexpected.push(`${key}: not delivered within 150 s`);
            return;
          }
          posts.attempts++;
          let failure: string;
          try {
            const res = await httpsRequest(agent, `${frontDoor.url}/hooks/${fn}/${sync ? 'sync' : 'async'}`, {
              method: 'POST',
              headers,
              body: JSON.stringify({ key }),
              timeoutMs: 20_000,
            });
            if (res.status === (sync ? 200 : 202)) return;
            failure = String(res.status);
            if (![502, 503, 504].includes(res.status)) {
              posts.unexpected.push(`${key}: ${res.status} ${res.body.slice(0, 200)}`);
              return;
            }
          } catch {
            failure = 'connection';
          }
          posts.retried.add(key);
          posts.failures[failure] = (posts.failures[failure] ?? 0) + 1;
          posts.lastFailureAt = Date.now();
          await sleep(backoff(attempt));
        }
      };
      const burst = Promise.all(keys.map(post));
      const doomed = apis[0] as FaasProcess;
      await until('a third of the posts to have started', () => started >= N / 3, 60_000);
      doomed.signal('SIGKILL');
      const killedAt = Date.now();
      expect(await doomed.exited).toBeNull();
      await burst;
      const deliveredAt = Date.now();
      agent.destroy();

      const { effect, counts } = await settle(sc.s3, out, fn, {
        prefix: 'p-',
        expected: N,
        timeoutMs: 120_000,
      });
      const dead = await deadLetters(apis[1]?.url as string, fn);
      // The client the function saw: the address the proxy saw, not the forged hop.
      const sample = await sc.s3.send(new GetObjectCommand({ Bucket: out, Key: `out/${keys[N - 1]}` }));
      const seen = JSON.parse(
        await (sample.Body as { transformToString(): Promise<string> }).transformToString(),
      ) as {
        sourceIp: string;
      };
      report('9 API SIGKILL behind HAProxy (HTTPS), 2 APIs + 1 worker', {
        N,
        retriedPosts: posts.retried.size,
        attempts: posts.attempts,
        failures: Object.entries(posts.failures)
          .map(([k, v]) => `${k}:${v}`)
          .join(','),
        failingFor: posts.lastFailureAt ? seconds(killedAt, posts.lastFailureAt) : '0s',
        delivered: seconds(t0, deliveredAt),
        outputs: effect.outputs.length,
        executions: effect.executions,
        duplicates: effect.duplicates,
        deadLetters: dead.length,
      });
      expect(posts.unexpected).toEqual([]);
      expect(effect.outputs).toEqual(keys);
      expect(effect.duplicates).toBe(0);
      expect(dead).toEqual([]);
      expect(counts.failed).toBe(0);
      expect(seen.sourceIp).toBe(CLIENT);
    } finally {
      await frontDoor.stop();
    }
  }, 400_000);

  it('a client that reaches an API directly is its own source, whatever it forwards', async () => {
    const api = apis[1] as FaasProcess;
    const key = 'direct-0';
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${api.url}/hooks/${fn}/sync`,
        {
          method: 'POST',
          localAddress: '127.0.0.3',
          headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': FORGED, 'X-Delivery-Id': key },
        },
        (res) => {
          res.resume();
          res.once('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.once('error', reject);
      req.end(JSON.stringify({ key }));
    });
    expect(status).toBe(200);
    const obj = await sc.s3.send(new GetObjectCommand({ Bucket: out, Key: `out/${key}` }));
    const seen = JSON.parse(
      await (obj.Body as { transformToString(): Promise<string> }).transformToString(),
    ) as {
      sourceIp: string;
    };
    expect(seen.sourceIp).toBe('127.0.0.3');
  }, 60_000);
});
