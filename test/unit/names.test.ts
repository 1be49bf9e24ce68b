import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { functionOfInvocation, invocationId, queueName } from '../../src/queue/names.js';

const ID = /^([a-z0-9-]+)\.([0-9a-f]{32})$/;

describe('invocationId', () => {
  it('is deterministic for the same function and dedup key', () => {
    const a = invocationId('resize', 'in/photo.jpg@etag1');
    expect(a).toBe(invocationId('resize', 'in/photo.jpg@etag1'));
    expect(a).toMatch(ID);
  });

  it('is the first 32 hex of sha256("<function>\\n<key>")', () => {
    const hex = createHash('sha256').update('resize\nk1').digest('hex').slice(0, 32);
    expect(invocationId('resize', 'k1')).toBe(`resize.${hex}`);
  });

  it.each([
    ['different functions, same key', ['resize', 'k1'], ['thumbnail', 'k1']],
    ['same function, different keys', ['resize', 'k1'], ['resize', 'k2']],
    // The newline separator keeps the boundary between function and key from shifting.
    ['boundary between function and key', ['a', 'bc'], ['ab', 'c']],
  ] as Array<[string, [string, string], [string, string]]>)(
    'differs for %s',
    (_label, [f1, k1], [f2, k2]) => {
      expect(invocationId(f1, k1)).not.toBe(invocationId(f2, k2));
    },
  );

  it('is random without a dedup key', () => {
    const ids = new Set(Array.from({ length: 50 }, () => invocationId('resize')));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(ID);
  });

  it('starts with the function name', () => {
    expect(invocationId('my-fn-2', 'x').startsWith('my-fn-2.')).toBe(true);
    expect(invocationId('my-fn-2').startsWith('my-fn-2.')).toBe(true);
  });
});

describe('functionOfInvocation', () => {
  it.each(['resize', 'a', 'my-fn-2', '0', 'x'.repeat(63)])('round-trips %s', (fn) => {
    expect(functionOfInvocation(invocationId(fn, 'key'))).toBe(fn);
    expect(functionOfInvocation(invocationId(fn))).toBe(fn);
  });

  const hex = 'a'.repeat(32);
  const malformed: Array<[string, string]> = [
    ['empty', ''],
    ['no dot', `resize${hex}`],
    ['no function', `.${hex}`],
    ['no hex', 'resize.'],
    ['uppercase function', `Resize.${hex}`],
    ['uppercase hex', `resize.${'A'.repeat(32)}`],
    ['hex too short', `resize.${'a'.repeat(31)}`],
    ['hex too long', `resize.${'a'.repeat(33)}`],
    ['not hex', `resize.${'g'.repeat(32)}`],
    ['dot in the function part', `re.size.${hex}`],
    ['function starts with a hyphen', `-resize.${hex}`],
    ['function ends with a hyphen', `resize-.${hex}`],
    ['function longer than 63', `${'x'.repeat(64)}.${hex}`],
    ['underscore in function', `re_size.${hex}`],
    ['trailing newline', `resize.${hex}\n`],
    ['uuid with hyphens', 'resize.123e4567-e89b-12d3-a456-426614174000'],
  ];

  it.each(malformed)('rejects %s', (_label, id) => {
    expect(functionOfInvocation(id)).toBeUndefined();
  });
});

describe('queueName', () => {
  it('prefixes the function name', () => {
    expect(queueName('resize')).toBe('fn.resize');
  });
});
