/**
 * The idle cost does not grow with the number of functions: a platform with 500 functions holds
 * a handful of Redis connections, and any one of the functions answers its first call.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  startPlatformProcess,
  writeManifestDir,
  type RunningPlatform,
} from '../helpers/platform.js';
import { requireRedis } from '../helpers/services.js';

const N = 500;
/** Connections one platform process may hold at rest, whatever the number of functions. */
const MAX_IDLE_CONNECTIONS = 12;

function manifest(): string {
  const lines = ['version: 1', 'functions:'];
  for (let i = 0; i < N; i++) {
    const name = `many-${String(i).padStart(3, '0')}`;
    lines.push(
      `  ${name}:`,
      '    handler: shared/index.handler',
      '    scale: { min: 0, max: 1, idleTimeout: 5s }',
      '    triggers:',
      `      - webhook: { path: /hooks/${name}, method: POST, mode: sync }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

describe(`a platform with ${N} functions`, () => {
  let p: RunningPlatform;

  /** The platform's Redis connections: each carries its instance's name. */
  async function connections(): Promise<number> {
    const redis = await requireRedis();
    try {
      const list = (await redis.call('CLIENT', 'LIST')) as string;
      return list.split('\n').filter((line) => line.includes(` name=faas:${p.instance} `)).length;
    } finally {
      redis.disconnect();
    }
  }

  beforeAll(async () => {
    const text = manifest();
    const dir = await writeManifestDir(text, []);
    await mkdir(join(dir, 'shared'));
    await writeFile(
      join(dir, 'shared', 'index.mjs'),
      'export async function handler(event, context) { return { fn: context.functionName }; }\n',
    );
    p = await startPlatformProcess(text, [], {}, dir);
  }, 120_000);

  afterAll(async () => {
    await p?.stop();
  });

  it(`holds at most ${MAX_IDLE_CONNECTIONS} Redis connections at rest, and any function answers`, async () => {
    const atRest = await connections();
    expect(atRest).toBeGreaterThan(0);
    expect(atRest).toBeLessThanOrEqual(MAX_IDLE_CONNECTIONS);
    for (const name of ['many-000', 'many-123', 'many-499']) {
      const res = await fetch(`${p.url}/hooks/${name}`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ fn: name });
    }
    // Their workers stop once idle (10 s) and their queues are empty: back to the resting count.
    const after = await eventually(
      'idle workers stopped',
      async () => {
        const n = await connections();
        return n <= atRest ? n : undefined;
      },
      30_000,
    );
    console.log(`${N} functions: ${atRest} Redis connections at rest, ${after} after three calls went idle`);
  }, 90_000);
});
