import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { describeDeploy } from '../../src/cli/commands/deploy.js';
import { deployProblems } from '../../src/deploy/deployer.js';
import { specOfVersion, storedSpec } from '../../src/deploy/spec.js';
import type { DeployChange, DeployState } from '../../src/deploy/state.js';
import { versionDigest, type VersionRecord } from '../../src/deploy/versions.js';
import type { FunctionSpec } from '../../src/manifest/types.js';
import { LiveFunctions } from '../../src/platform/functions.js';
import { fnSpec } from '../helpers/spec.js';

function hook(path: string): FunctionSpec['triggers'][number] {
  return { type: 'webhook', path, methods: ['POST'], mode: 'async', payload: '2.0' };
}

function record(spec: FunctionSpec, version: number): VersionRecord {
  return { version, hash: 'h'.repeat(64), spec: storedSpec(spec), deployedAt: 1, deployedBy: 'me' };
}

/** A deploy state that tests drive by hand. */
class FakeState extends EventEmitter<{ change: [DeployChange] }> {
  constructor(readonly initial: Map<string, VersionRecord>) {
    super();
  }
  versions(): ReadonlyMap<string, VersionRecord> {
    return this.initial;
  }
}

describe('deployProblems', () => {
  it('refuses grants and triggers on the code bucket', () => {
    const read = fnSpec('a', { storage: { read: [{ bucket: 'faas-code', prefix: '' }], write: [] } });
    const trigger = fnSpec('b', {
      triggers: [
        { type: 'bucket', bucket: 'faas-code', events: ['s3:ObjectCreated:*'], prefix: '', suffix: '' },
      ],
    });
    expect(deployProblems([read, trigger, fnSpec('c')], [], 'faas-code')).toEqual([
      'function a: bucket faas-code holds deployed code; no function may name it',
      'function b: bucket faas-code holds deployed code; no function may name it',
    ]);
  });

  it("refuses a webhook path another function keeps, but not the function's own", () => {
    const kept = fnSpec('old', { triggers: [hook('/hooks/x')] });
    expect(deployProblems([fnSpec('new', { triggers: [hook('/Hooks/X')] })], [kept], 'c')).toEqual([
      "function new: webhook path /Hooks/X is already function old's",
    ]);
    expect(deployProblems([fnSpec('old', { triggers: [hook('/hooks/x')] })], [kept], 'c')).toEqual([]);
  });
});

describe('versions and specs', () => {
  it('stores a spec without the deployer paths and gives it back with its version and hash', () => {
    const spec = fnSpec('a', { handlerFile: '/home/me/fn/a/index.mjs' });
    const stored = storedSpec(spec);
    expect(JSON.stringify(stored)).not.toContain('/home/me');
    expect(specOfVersion(record(spec, 3))).toEqual({
      ...spec,
      handlerFile: '',
      version: 3,
      codeHash: 'h'.repeat(64),
    });
  });

  it('gives the same digest to the same code and settings written in another order', () => {
    const a = { timeoutMs: 1, env: { A: '1', B: '2' } };
    const b = { env: { B: '2', A: '1' }, timeoutMs: 1 };
    expect(versionDigest('x', a)).toBe(versionDigest('x', b));
    expect(versionDigest('x', a)).not.toBe(versionDigest('y', a));
    expect(versionDigest('x', a)).not.toBe(versionDigest('x', { ...a, timeoutMs: 2 }));
  });
});

describe('LiveFunctions', () => {
  it('follows additions, new versions and removals, as specs', () => {
    const a1 = record(fnSpec('a'), 1);
    const state = new FakeState(new Map([['a', a1]]));
    const live = new LiveFunctions(state as unknown as DeployState);
    expect(live.get('a')?.version).toBe(1);
    const seen: string[] = [];
    live.on('change', (c) =>
      seen.push(
        [
          ...c.added.map((s) => `+${s.name}@${s.version}`),
          ...c.changed.map((x) => `${x.to.name}@${x.from.version}->${x.to.version}`),
          ...c.removed.map((s) => `-${s.name}`),
        ].join(' '),
      ),
    );
    const before = live.record();
    state.emit('change', {
      epoch: 2,
      added: [record(fnSpec('b'), 1)],
      changed: [{ from: a1, to: record(fnSpec('a'), 2) }],
      removed: [],
    });
    expect(live.get('a')?.version).toBe(2);
    expect(live.all().map((s) => s.name)).toEqual(['a', 'b']);
    // The record handed out before is not changed under its holder.
    expect(before.a?.version).toBe(1);
    state.emit('change', { epoch: 3, added: [], changed: [], removed: [record(fnSpec('a'), 2)] });
    expect(live.get('a')).toBeUndefined();
    expect(live.get('toString')).toBeUndefined();
    expect(seen).toEqual(['+b@1 a@1->2', '-a']);
  });
});

describe('describeDeploy', () => {
  it('prints created, updated, removed and unchanged functions with versions and hashes', () => {
    const lines = describeDeploy(
      [
        { name: 'same', action: 'unchanged', version: 4, hash: 'c'.repeat(64) },
        { name: 'gone', action: 'removed', version: 0 },
        { name: 'next', action: 'updated', version: 3, hash: 'b'.repeat(64) },
        { name: 'new', action: 'created', version: 1, hash: 'a'.repeat(64) },
      ],
      new Map([
        ['next', 2],
        ['gone', 5],
        ['same', 4],
      ]),
    );
    expect(lines).toEqual([
      `created   new                      v1               ${'a'.repeat(12)}`,
      `updated   next                     v3 (was v2)      ${'b'.repeat(12)}`,
      'removed   gone                     (was v5)',
      `unchanged same                     v4               ${'c'.repeat(12)}`,
    ]);
  });
});
