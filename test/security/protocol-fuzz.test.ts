/**
 * Functions that speak the runtime protocol wrongly, against a running platform (`faas up` as
 * its own process, real Docker): every kind of malformed, unknown, oversized or out-of-order
 * message, on the runtime's own control connection and on new connections to its socket, at
 * least 20 times each, plus 1,000 random byte strings and JSON values. Each bad message costs
 * its container (the invocation fails with kind `protocol`; the next one gets a new container);
 * meanwhile a well-behaved function is called without a failure, and the platform stays alive
 * and small. The echo function's p99 latency is printed with and without the attack.
 */
import type Docker from 'dockerode';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformProcess, type RunningPlatform } from '../helpers/platform.js';
import { requireDocker, requireMinio, requireRedis } from '../helpers/services.js';

const RSS_LIMIT_MB = 300;
/** Tries of each kind of bad message. */
const TRIES = 20;
/** Random inputs in all, and how many go into one invocation. */
const RANDOM_INPUTS = 1000;
const RANDOM_BATCH = 50;
/** Hostile invocations running at once (each on a container of its own). */
const PARALLEL = 4;
const BASELINE_MS = 10_000;
const ECHO_PAUSE_MS = 25;

/** Every kind of bad message the fixture sends (test/fixtures/functions/protocol-hostile). */
const VIOLATIONS = [
  'bad-json',
  'null',
  'wrong-types',
  'unknown-type',
  'unknown-id',
  'other-id',
  'storage-missing',
  'storage-hostile',
  'line-too-long',
  'log-flood',
  'second-hello',
  'out-of-order',
  'crash-malformed',
  'oversized-result',
  'bad-stream-header',
  'not-a-stream',
] as const;

const MANIFEST = `version: 1
functions:
  echo:
    handler: echo/index.handler
    retry: { attempts: 1 }
    scale: { min: 1, max: 2 }
  hostile:
    handler: protocol-hostile/index.handler
    timeout: 20s
    retry: { attempts: 1 }
    scale: { max: ${PARALLEL} }
  retried:
    handler: protocol-hostile/index.handler
    timeout: 20s
    retry: { attempts: 2, backoff: 100ms }
`;

interface Task {
  kind: string;
  event: Record<string, unknown>;
  /** Random inputs it carries. */
  inputs: number;
}

interface Outcome {
  kind: string;
  status: number;
  errorKind?: string;
  body: unknown;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;

/** A seeded generator, so that a failing input can be replayed. */
function randomInputs(count: number, seed = 0xfa17): string[] {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const value = (depth: number): unknown => {
    const r = rand();
    if (depth > 3 || r < 0.3) return pick([null, true, false, 0, -1, 1e308, 'x', '', '__proto__', '\u0000']);
    if (r < 0.5) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    if (rand() < 0.8)
      o.t = pick(['hello', 'ready', 'log', 'result', 'storage', 'crash', 'init-error', 'stream', 'zz']);
    for (const k of [
      'id',
      'ok',
      'op',
      'error',
      'msg',
      'level',
      'bucket',
      'key',
      'prefix',
      'reqId',
      'value',
      'ts',
    ])
      if (rand() < 0.3) o[k] = value(depth + 1);
    return o;
  };
  return Array.from({ length: count }, (_, i) => {
    if (i % 2 === 0) {
      // Bytes without a newline: the fixture ends each input with one.
      const bytes = Array.from({ length: 1 + Math.floor(rand() * 96) }, () => Math.floor(rand() * 256));
      return Buffer.from(bytes.map((b) => (b === 10 ? 32 : b))).toString('base64');
    }
    return Buffer.from(JSON.stringify(value(0))).toString('base64');
  });
}

function plan(otherIds: string[]): Task[] {
  const tasks: Task[] = [];
  for (let n = 0; n < TRIES; n++) {
    for (const kind of VIOLATIONS) tasks.push({ kind, event: { attack: kind, n, otherIds }, inputs: 0 });
    tasks.push({ kind: 'storage-refused', event: { attack: 'storage-refused' }, inputs: 0 });
  }
  const inputs = randomInputs(RANDOM_INPUTS);
  for (let i = 0, b = 0; i < inputs.length; i += RANDOM_BATCH, b++) {
    const batch = inputs.slice(i, i + RANDOM_BATCH);
    // One batch in five goes down the runtime's own connection, the rest on new connections.
    const on = b % 5 === 0 ? 'own' : 'fresh';
    // Spread through the list, so that random batches run beside every other kind.
    tasks.splice(Math.floor((tasks.length * b) / (RANDOM_INPUTS / RANDOM_BATCH)), 0, {
      kind: `random-${on}`,
      event: { attack: 'random', on, inputs: batch },
      inputs: batch.length,
    });
  }
  return tasks;
}

describe('a function that breaks the runtime protocol costs only its own container', () => {
  let docker: Docker;
  let platform: RunningPlatform;
  let stopped = false;

  async function invoke(fn: string, event: unknown): Promise<{ status: number; body: unknown; id: string }> {
    const res = await fetch(`${platform.url}/functions/${fn}/invoke`, {
      method: 'POST',
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as unknown) : null,
      id: res.headers.get('x-faas-invocation-id') ?? '',
    };
  }

  async function rssMb(): Promise<{ rss: number; hwm: number }> {
    const status = await readFile(`/proc/${platform.pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]) / 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  }

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    (await requireMinio()).destroy();
    docker = await requireDocker();
    platform = await startPlatformProcess(MANIFEST, ['echo', 'protocol-hostile'], {
      // Replacements come from warm generic containers, so a killed container is replaced at once.
      FAAS_PREWARM: String(PARALLEL + 1),
      FAAS_MAX_CONTAINERS: '16',
      FAAS_LOG_LEVEL: 'warn',
    });
  }, 120_000);

  afterAll(async () => {
    if (!stopped) await platform?.stop();
  }, 120_000);

  it('the invocation on a container that sent a bad message fails with kind protocol, and is retried', async () => {
    const r = await invoke('retried', { attack: 'bad-json', n: 0 });
    expect(r.status).toBe(502);
    expect((r.body as { error: { kind: string } }).error.kind).toBe('protocol');
    const rec = (await (await fetch(`${platform.url}/invocations/${r.id}`)).json()) as {
      status: string;
      attempts: number;
      error: { kind: string; message: string };
      history?: Array<{ error: { kind: string } }>;
      container: string;
    };
    console.log('retried:', JSON.stringify({ ...rec, logs: undefined }));
    expect(rec.status).toBe('failed');
    expect(rec.error.kind).toBe('protocol');
    expect(rec.error.message).toMatch(/bad-json/);
    // A protocol failure is a container's, not the job's: the job ran again, on a new container.
    expect(rec.attempts).toBe(2);
    expect(rec.history?.map((h) => h.error.kind)).toEqual(['protocol']);
    // The container is gone.
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`faas.instance=${platform.instance}`, 'faas.function=retried'] },
    });
    for (const c of left) expect(c.Names[0]).not.toBe(`/${rec.container}`);
  }, 90_000);

  it('every bad message ends its container; echo never fails; the platform stays up and small', async () => {
    const echo: Array<{ phase: 'baseline' | 'attack'; ok: boolean; ms: number; detail?: string }> = [];
    const echoIds: string[] = [];
    // Declared wide: TypeScript would narrow it to its first value inside the loop below.
    let phase = 'baseline' as 'baseline' | 'attack' | 'done';
    let peakRss = 0;
    const sampler = setInterval(
      () =>
        void rssMb().then(
          (m) => (peakRss = Math.max(peakRss, m.rss)),
          () => undefined,
        ),
      250,
    );
    const echoLoop = (async () => {
      for (let n = 0; phase !== 'done'; n++) {
        const at = phase as 'baseline' | 'attack';
        const t0 = performance.now();
        try {
          const r = await invoke('echo', { n });
          const ok = r.status === 200 && (r.body as { echo?: { n?: number } }).echo?.n === n;
          echo.push({
            phase: at,
            ok,
            ms: performance.now() - t0,
            detail: ok ? undefined : JSON.stringify(r.body),
          });
          if (echoIds.length < 20) echoIds.push(r.id);
        } catch (err) {
          echo.push({ phase: at, ok: false, ms: performance.now() - t0, detail: String(err) });
        }
        // A steady caller, not a load generator: the attack gets the CPU it needs to finish.
        await sleep(ECHO_PAUSE_MS);
      }
    })();

    try {
      await sleep(BASELINE_MS);
      phase = 'attack';
      const tasks = plan(echoIds);
      const outcomes: Outcome[] = [];
      const t0 = Date.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          while (next < tasks.length) {
            const task = tasks[next++] as Task;
            const r = await invoke('hostile', task.event);
            const errorKind = (r.body as { error?: { kind?: string } } | null)?.error?.kind;
            outcomes.push({ kind: task.kind, status: r.status, errorKind, body: r.body });
          }
        }),
      );
      const attackMs = Date.now() - t0;
      phase = 'done';
      await echoLoop;

      // Per kind: how many were sent, and how many ended their container with kind protocol.
      const table = new Map<string, { sent: number; protocol: number; other: string[] }>();
      for (const o of outcomes) {
        const row = table.get(o.kind) ?? { sent: 0, protocol: 0, other: [] };
        row.sent++;
        if (o.errorKind === 'protocol') row.protocol++;
        else row.other.push(`${o.status} ${JSON.stringify(o.body).slice(0, 200)}`);
        table.set(o.kind, row);
      }
      const randomSent = tasks.reduce((n, t) => n + t.inputs, 0);
      console.log(
        `protocol attack: ${outcomes.length} hostile invocations in ${(attackMs / 1000).toFixed(1)} s`,
      );
      for (const [kind, row] of [...table].sort())
        console.log(`  ${kind.padEnd(18)} sent ${String(row.sent).padStart(3)}  protocol ${row.protocol}`);
      console.log(`  random inputs sent: ${randomSent}`);

      const { hwm } = await rssMb();
      const lat = (p: 'baseline' | 'attack') => {
        const ms = echo
          .filter((e) => e.phase === p)
          .map((e) => e.ms)
          .sort((a, b) => a - b);
        return `${ms.length} calls, p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms`;
      };
      const failed = echo.filter((e) => !e.ok);
      console.log(`echo without the attack: ${lat('baseline')}`);
      console.log(`echo during the attack:  ${lat('attack')}`);
      console.log(
        `echo failures: ${failed.length}; platform RSS peak sampled ${peakRss.toFixed(1)} MB, VmHWM ${hwm.toFixed(1)} MB`,
      );
      const metrics = await (await fetch(`${platform.url}/metrics`)).text();
      const counted = metrics
        .split('\n')
        .filter((l) => l.startsWith('faas_protocol_violations_total{'))
        .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
      // One warning per container ended, with the reason and no more than a short escaped sample.
      const warnings = platform
        .output()
        .split('\n')
        .filter((l) => l.includes('container broke the runtime protocol'));
      const longest = Math.max(...warnings.map((l) => l.length));
      console.log(
        `faas_protocol_violations_total: ${counted}; warnings logged: ${warnings.length}, longest ${longest} chars`,
      );
      console.log(`a warning: ${warnings.find((w) => w.includes('"fn":"hostile"'))}`);

      for (const kind of VIOLATIONS) {
        const row = table.get(kind);
        expect(row?.sent, kind).toBeGreaterThanOrEqual(TRIES);
        expect(row?.other, kind).toEqual([]);
      }
      for (const on of ['random-own', 'random-fresh']) expect(table.get(on)?.other, on).toEqual([]);
      expect(randomSent).toBeGreaterThanOrEqual(RANDOM_INPUTS);
      const refused = table.get('storage-refused');
      expect(refused?.sent).toBe(TRIES);
      for (const o of outcomes.filter((x) => x.kind === 'storage-refused')) {
        expect(o.status).toBe(200);
        expect(o.body).toEqual({
          list: 'PermissionError',
          get: 'PermissionError',
          put: 'PermissionError',
          delete: 'PermissionError',
        });
      }
      // Every container that was ended was counted once (the retried test's two included).
      expect(counted).toBeGreaterThanOrEqual(outcomes.filter((o) => o.errorKind === 'protocol').length);
      expect(warnings.length).toBe(counted);
      expect(longest).toBeLessThan(1000);
      for (const w of warnings) expect(w).toMatch(/"fn":"(hostile|retried)".*"reason":"[a-z-]+"/);
      expect(failed, JSON.stringify(failed.slice(0, 5))).toEqual([]);
      expect(echo.filter((e) => e.phase === 'attack').length).toBeGreaterThan(20);
      expect(hwm).toBeLessThan(RSS_LIMIT_MB);
      expect(peakRss).toBeLessThan(RSS_LIMIT_MB);
    } finally {
      phase = 'done';
      clearInterval(sampler);
      await echoLoop;
    }
  }, 600_000);

  it('is still up, and leaves no container behind', async () => {
    expect((await fetch(`${platform.url}/healthz`)).status).toBe(200);
    stopped = true;
    expect(await platform.stop()).toBe(0);
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`faas.instance=${platform.instance}`] },
    });
    expect(left).toEqual([]);
  }, 120_000);
});
