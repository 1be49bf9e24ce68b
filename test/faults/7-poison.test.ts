/**
 * Fault 7: a poison event (its handler always throws) among 200 good ones. The good ones all
 * complete; the poison one fails its 3 attempts and stays in the dead-letter set. After the
 * function is fixed and the platform restarted on the fixed code, re-driving the dead letter
 * produces its output and empties the set.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/platform.js';
import {
  deadLetterKey,
  deadLetters,
  inputKeys,
  keyedManifest,
  readEffect,
  report,
  seconds,
  sendInvokes,
  settle,
  shortName,
  startFaas,
  scenario,
} from './harness.js';

const N = 200;
const POISON = 'poison-0';

describe('fault 7: a poison event among 200 good ones', () => {
  const fn = shortName('poison');
  const out = shortName('fault7-out');
  const sc = scenario({
    fns: [fn],
    buckets: [out],
    manifest: () =>
      keyedManifest(fn, { out, delayMs: 50, retry: '{ attempts: 3, backoff: 100ms, maxBackoff: 1s }' }),
  });
  const { procs } = sc;

  it('200 outputs and 1 dead letter after 3 attempts; re-driven after a fix, it produces its output', async () => {
    const env = { FAAS_PORT: String(await freePort()) };
    const first = await startFaas('up', sc.dir, env);
    procs.push(first);
    const good = inputKeys('g-', N);
    const sent = [...good.slice(0, N / 2), POISON, ...good.slice(N / 2)];
    const burst = sendInvokes(first.url as string, fn, sent, 15);
    await burst.done;
    const before = await settle(sc.s3, out, fn, { expected: sent.length, timeoutMs: 90_000 });
    const dead = await deadLetters(first.url as string, fn);
    const poisonRuns = (await readEffect(sc.s3, out, POISON)).executions;
    expect(burst.unexpected).toEqual([]);
    expect(before.effect.outputs).toEqual(good);
    expect(dead.map(deadLetterKey)).toEqual([POISON]);
    expect(dead[0]).toMatchObject({ attempts: 3, error: { kind: 'handler' } });
    expect(dead[0]?.error?.message).toContain(`poison event ${POISON}`);
    expect(poisonRuns).toBe(3);
    expect(before.counts.failed).toBe(1);

    // Deploy the fix: new handler code, the platform restarted on the same manifest folder.
    expect(await first.stop()).toBe(0);
    const file = join(sc.dir, 'keyed', 'index.mjs');
    await writeFile(
      file,
      (await readFile(file, 'utf8')).replace('const FIXED = false;', 'const FIXED = true;'),
    );
    const second = await startFaas('up', sc.dir, env);
    procs.push(second);
    const redrive = await fetch(`${second.url}/dlq/retry?function=${fn}`, { method: 'POST' });
    const redrivenAt = Date.now();
    expect(redrive.status).toBe(200);
    expect(((await redrive.json()) as { retried: string[] }).retried).toEqual([dead[0]?.id]);
    const after = await settle(sc.s3, out, fn, { expected: sent.length, timeoutMs: 60_000 });
    const deadAfter = await deadLetters(second.url as string, fn);
    report('7 poison event, re-driven after a fix', {
      N: sent.length,
      recovery: seconds(redrivenAt, after.effect.lastOutputAt),
      inputs: burst.accepted,
      outputsBeforeFix: before.effect.outputs.length,
      deadLettersBeforeFix: dead.length,
      poisonAttempts: poisonRuns,
      outputs: after.effect.outputs.length,
      deadLetters: deadAfter.length,
      executions: after.effect.executions,
      duplicates: after.effect.duplicates,
    });
    expect(after.effect.outputs).toEqual([...good, POISON].sort());
    expect(deadAfter).toEqual([]);
    expect(after.counts.failed).toBe(0);
    expect(await second.stop()).toBe(0);
  }, 200_000);
});
