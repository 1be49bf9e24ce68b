/**
 * The code store (bundles by sha256 in their own bucket) and the version registry (versions and
 * the current pointer in Redis), on the real services.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeNotFound, CodeStore, codeHash } from '../../src/deploy/code-store.js';
import { DeployState, diffVersions, type DeployChange } from '../../src/deploy/state.js';
import { deployKeys, VersionRegistry, versionDigest } from '../../src/deploy/versions.js';
import { eventually } from '../helpers/platform.js';
import { dropBucket } from '../helpers/s3.js';
import { requireMinio, requireRedis, uniqueName } from '../helpers/services.js';

describe('code store', () => {
  let s3: S3Client;
  let store: CodeStore;
  const bucket = uniqueName('code');

  beforeAll(async () => {
    s3 = await requireMinio();
    store = new CodeStore(s3, bucket);
    await store.ensureBucket();
  });
  afterAll(async () => {
    await dropBucket(s3, bucket);
    s3?.destroy();
  });

  it('stores a bundle by its sha256 once and reads it back, checked against the hash', async () => {
    const code = `export const handler = async () => ${Math.random()};`;
    const hash = await store.put(code);
    expect(hash).toBe(codeHash(code));
    expect(await store.has(hash)).toBe(true);
    expect(await store.put(Buffer.from(code))).toBe(hash);
    // A fresh store (another process) reads it from the bucket, not from a cache.
    const other = new CodeStore(s3, bucket);
    expect((await other.get(hash)).toString()).toBe(code);
  });

  it('refuses a missing bundle, a malformed hash and content that does not match its hash', async () => {
    const missing = codeHash('never stored');
    expect(await store.has(missing)).toBe(false);
    await expect(new CodeStore(s3, bucket).get(missing)).rejects.toBeInstanceOf(CodeNotFound);
    await expect(store.get('../../etc/passwd')).rejects.toBeInstanceOf(CodeNotFound);
    const claimed = codeHash('what the name says');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `sha256/${claimed}`, Body: 'something else' }));
    await expect(new CodeStore(s3, bucket).get(claimed)).rejects.toThrow(/does not match its hash/);
  });
});

describe('version registry', () => {
  let redis: Redis;
  let sub: Redis;
  let registry: VersionRegistry;
  const ns = uniqueName('deploytest');
  const spec = (name: string, memory = 128) => ({
    name,
    handler: `${name}/index.handler`,
    memoryBytes: memory << 20,
  });
  const record = (name: string, hash: string, memory = 128) => ({
    name,
    hash,
    spec: spec(name, memory),
    deployedAt: Date.now(),
    deployedBy: 'test',
    manifest: 'functions/manifest.yaml',
  });
  const h = (s: string) => codeHash(s);

  beforeAll(async () => {
    redis = await requireRedis();
    sub = await requireRedis();
    registry = new VersionRegistry(redis, ns);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${ns}:*`);
    if (keys.length) await redis.del(...keys);
    sub?.disconnect();
    redis?.disconnect();
  });

  it('creates, keeps unchanged, updates on new code or settings, and prunes only when asked', async () => {
    const epochs: string[] = [];
    await sub.subscribe(registry.channel);
    sub.on('message', (_channel: string, epoch: string) => epochs.push(epoch));

    expect(await registry.deploy([record('a', h('a1')), record('b', h('b1'))], false)).toEqual([
      { name: 'a', action: 'created', version: 1 },
      { name: 'b', action: 'created', version: 1 },
    ]);
    const e1 = await registry.epoch();
    // Same code, same settings (keys in another order): no new version, no epoch change.
    const reordered = {
      ...record('a', h('a1')),
      spec: { memoryBytes: 128 << 20, handler: 'a/index.handler', name: 'a' },
    };
    expect(await registry.deploy([reordered], false)).toEqual([
      { name: 'a', action: 'unchanged', version: 1 },
    ]);
    expect(await registry.epoch()).toBe(e1);
    // New code; then same code with new settings: each a new version.
    expect(await registry.deploy([record('a', h('a2'))], false)).toEqual([
      { name: 'a', action: 'updated', version: 2 },
    ]);
    expect(await registry.deploy([record('a', h('a2'), 256)], false)).toEqual([
      { name: 'a', action: 'updated', version: 3 },
    ]);
    // Without prune, b stays; with prune, b goes.
    expect((await registry.current()).versions.has('b')).toBe(true);
    expect(await registry.deploy([record('a', h('a2'), 256)], true)).toEqual([
      { name: 'a', action: 'unchanged', version: 3 },
      { name: 'b', action: 'removed', version: 0 },
    ]);
    const now = await registry.current();
    expect([...now.versions.keys()]).toEqual(['a']);
    expect(now.versions.get('a')).toMatchObject({ version: 3, hash: h('a2') });
    expect(now.epoch).toBe(await registry.epoch());
    expect(versionDigest(h('a2'), spec('a', 256))).toBe(versionDigest(h('a2'), { ...spec('a', 256) }));
    // Every change was published with its epoch.
    await new Promise((r) => setTimeout(r, 100));
    expect(epochs.map(Number)).toEqual([e1, e1 + 1, e1 + 2, e1 + 3]);
  });

  it('rolls back to the previous version or a named one, and removes', async () => {
    expect((await registry.list('a')).map((v) => v.version)).toEqual([1, 2, 3]);
    expect(await registry.rollback('a')).toBe(2);
    expect(await registry.rollback('a', 1)).toBe(1);
    expect((await registry.current()).versions.get('a')?.hash).toBe(h('a1'));
    await expect(registry.rollback('a')).rejects.toThrow(/no version older than 1/);
    await expect(registry.rollback('a', 9)).rejects.toThrow(/no version 9/);
    await expect(registry.rollback('nope')).rejects.toThrow(/never been deployed/);
    // A deploy after a rollback gets the next number, never a reused one.
    expect(await registry.deploy([record('a', h('a4'))], false)).toEqual([
      { name: 'a', action: 'updated', version: 4 },
    ]);
    expect(await registry.remove('a')).toBe(true);
    expect(await registry.remove('a')).toBe(false);
    expect((await registry.current()).versions.size).toBe(0);
    // Removed, then rolled back: it is back with that version.
    expect(await registry.rollback('a', 2)).toBe(2);
    expect((await registry.current()).versions.get('a')?.version).toBe(2);
    expect(await redis.sismember(deployKeys(ns).functions, 'a')).toBe(1);
  });
});

describe('deploy state', () => {
  let redis: Redis;
  const ns = uniqueName('deploystate');
  const rec = (name: string, hash: string) => ({
    name,
    hash,
    spec: { name },
    deployedAt: Date.now(),
    deployedBy: 'test',
  });

  beforeAll(async () => {
    redis = await requireRedis();
  });
  afterAll(async () => {
    const keys = await redis.keys(`${ns}:*`);
    if (keys.length) await redis.del(...keys);
    redis?.disconnect();
  });

  it('follows deploys, rollbacks and removals made by another process, each emitted once and in order', async () => {
    const writer = new VersionRegistry(redis, ns);
    await writer.deploy([rec('x', codeHash('x1'))], false);
    const readerConnection = await requireRedis();
    const reader = new VersionRegistry(readerConnection, ns);
    const state = await DeployState.start(reader, await requireRedis());
    const changes: DeployChange[] = [];
    state.on('change', (c) => changes.push(c));
    try {
      expect(state.get('x')?.version).toBe(1);
      await writer.deploy([rec('x', codeHash('x2')), rec('y', codeHash('y1'))], false);
      await eventually('the deploy seen', async () => (changes.length >= 1 ? true : undefined), 5000);
      expect(changes[0]?.added.map((v) => v.spec)).toEqual([{ name: 'y' }]);
      expect(changes[0]?.changed.map((c) => [c.from.version, c.to.version])).toEqual([[1, 2]]);
      await writer.rollback('x');
      await writer.remove('y');
      await eventually(
        'rollback and removal seen',
        async () => (state.get('x')?.version === 1 && !state.get('y') ? true : undefined),
        5000,
      );
      const all = changes.flatMap((c) => [
        ...c.changed.map((x) => `x ${x.from.version}->${x.to.version}`),
        ...c.removed.map((r) => `removed ${(r.spec as { name: string }).name}`),
      ]);
      expect(all).toEqual(['x 1->2', 'x 2->1', 'removed y']);
    } finally {
      await state.close();
      readerConnection.disconnect();
    }
  });
});

describe('diffVersions', () => {
  const v = (version: number) => ({ version, hash: 'h', spec: {}, deployedAt: 0, deployedBy: '' });
  it('tells added, changed and removed functions apart', () => {
    const before = new Map([
      ['a', v(1)],
      ['b', v(1)],
      ['c', v(2)],
    ]);
    const after = new Map([
      ['a', v(1)],
      ['b', v(2)],
      ['d', v(1)],
    ]);
    const d = diffVersions(before, after);
    expect(d.added).toEqual([v(1)]);
    expect(d.changed).toEqual([{ from: v(1), to: v(2) }]);
    expect(d.removed).toEqual([v(2)]);
    expect(diffVersions(after, after)).toEqual({ added: [], changed: [], removed: [] });
  });
});
