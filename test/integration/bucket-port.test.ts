/**
 * `faas up` on a port other than the one MinIO's webhook target posts to: uploads still run the
 * function (over MinIO's listen API), and the platform says why it chose that path.
 */
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropBucket, listKeys } from '../helpers/s3.js';
import { eventually, freePort, startPlatformProcess, type RunningPlatform } from '../helpers/platform.js';
import { config, requireDocker, requireMinio, requireRedis, uniqueName } from '../helpers/services.js';

describe('bucket events on a non-default port', () => {
  let s3: S3Client;
  let platform: RunningPlatform;
  let port: number;
  let target: string;
  const input = uniqueName('port-in');
  const output = uniqueName('port-out');

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    s3 = await requireMinio();
    const file = join(config.stateDir, 'minio-events.endpoint');
    target = (
      await readFile(file, 'utf8').catch(() => {
        throw new Error(`no ${file}: start MinIO with \`npm run services:up\``);
      })
    ).trim();
    for (const Bucket of [input, output]) await s3.send(new CreateBucketCommand({ Bucket }));
    port = await freePort();
    platform = await startPlatformProcess(
      `version: 1
functions:
  copy-key:
    handler: copy-key/index.handler
    env: { OUT_BUCKET: ${output} }
    storage: { write: [${output}] }
    triggers:
      - bucket: ${input}
        prefix: data/
`,
      ['copy-key'],
      // The services' own state dir, as a user's plain `FAAS_PORT=… faas up` would read it.
      { FAAS_PORT: String(port), FAAS_STATE_DIR: config.stateDir },
    );
  }, 120_000);

  afterAll(async () => {
    const code = await platform?.stop();
    expect(code).toBe(0);
    for (const b of [input, output]) await dropBucket(s3, b);
    s3?.destroy();
  }, 120_000);

  it('runs the function for every upload and says how the events arrive', async () => {
    expect(new URL(target).port).not.toBe(String(port));
    const keys = ['data/a.csv', 'data/with space.csv', 'data/plus+sign.csv', 'data/100% done.csv'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: input, Key, Body: Key }));
    const outputs = await eventually(
      'one output per upload',
      async () => {
        const got = await listKeys(s3, output, 'out/');
        return got.length >= keys.length ? got : undefined;
      },
      60_000,
    );
    expect(outputs.sort()).toEqual(keys.map((k) => `out/${k}`).sort());
    expect(platform.output()).toContain(`MinIO posts bucket events to ${target}`);
    const status = (await (await fetch(`${platform.url}/status`)).json()) as {
      bucketEvents: { mode: string; fallback: string; streams: Record<string, { connected: boolean }> };
    };
    expect(status.bucketEvents.mode).toBe('listen');
    expect(status.bucketEvents.fallback).toContain(String(port));
    expect(status.bucketEvents.streams[input]?.connected).toBe(true);
    const health = (await (await fetch(`${platform.url}/healthz`)).json()) as {
      checks: Record<string, { ok: boolean }>;
    };
    expect(health.checks.bucketEvents?.ok).toBe(true);
    expect(JSON.stringify(health)).not.toContain(input);
  });
});
