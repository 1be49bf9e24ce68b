import { describe, expect, it } from 'vitest';
import { deployProblems, unsetSecrets } from '../../src/deploy/deployer.js';
import type { WebhookTrigger } from '../../src/manifest/types.js';
import { fnSpec } from '../helpers/spec.js';

const hook = (path: string, secret?: string): WebhookTrigger => ({
  type: 'webhook',
  path,
  methods: ['POST'],
  mode: 'async',
  payload: '2.0',
  ...(secret && { secret }),
});

describe('deployProblems', () => {
  it('refuses a webhook path another function serves, whatever its case, and the code bucket', () => {
    const others = [fnSpec('a', { triggers: [hook('/hooks/x')] })];
    expect(deployProblems([fnSpec('b', { triggers: [hook('/HOOKS/X')] })], others, 'code')).toEqual([
      "function b: webhook path /HOOKS/X is already function a's",
    ]);
    expect(
      deployProblems(
        [fnSpec('b', { storage: { read: [{ bucket: 'code', prefix: '' }], write: [] } })],
        [],
        'code',
      ),
    ).toEqual(['function b: bucket code holds deployed code; no function may name it']);
  });

  it('lets a function keep its own path, and two deployed together not share one', () => {
    const others = [fnSpec('a', { triggers: [hook('/hooks/x')] })];
    expect(deployProblems([fnSpec('a', { triggers: [hook('/hooks/x')] })], others, 'code')).toEqual([]);
    expect(
      deployProblems(
        [fnSpec('b', { triggers: [hook('/hooks/y')] }), fnSpec('c', { triggers: [hook('/hooks/y')] })],
        others,
        'code',
      ),
    ).toEqual(["function c: webhook path /hooks/y is already function b's"]);
  });

  it('does not blame a deploy for a clash among the functions it leaves alone', () => {
    const others = [
      fnSpec('a', { triggers: [hook('/hooks/x')] }),
      fnSpec('b', { triggers: [hook('/hooks/x')] }),
    ];
    expect(deployProblems([fnSpec('c', { triggers: [hook('/hooks/z')] })], others, 'code')).toEqual([]);
  });
});

describe('unsetSecrets', () => {
  it('names each signed webhook whose variable has no value, and only those', () => {
    const specs = [
      fnSpec('a', { triggers: [hook('/a', 'A_SECRET'), hook('/a2')] }),
      fnSpec('b', { triggers: [hook('/b', 'B_SECRET')] }),
    ];
    const env: Record<string, string> = { A_SECRET: 'x', B_SECRET: '' };
    expect(unsetSecrets(specs, (n) => env[n])).toEqual([
      "function b: webhook secret B_SECRET is not set in the API's environment (set it where faas up or faas api runs)",
    ]);
  });
});
