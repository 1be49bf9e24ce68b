import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN, formatDuration, parseDuration } from '../../src/util/duration.js';

describe('parseDuration', () => {
  const cases: Array<[string, number]> = [
    ['0ms', 0],
    ['500ms', 500],
    ['1s', 1000],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['168h', 604_800_000],
    ['0.5ms', 1], // rounds to whole milliseconds
  ];

  it.each(cases)('%s → %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['10', '1d', '-1s', '', ' 1s', '1s ', '1 s', '1S', 's', '.5s', '1.s', '1e3ms', '1h30m'])(
    'rejects %j',
    (text) => {
      expect(() => parseDuration(text)).toThrow(`not a duration: ${text}`);
      expect(DURATION_PATTERN.test(text)).toBe(false);
    },
  );
});

describe('formatDuration', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [1, '1ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1500ms'],
    [90_000, '90s'],
    [60_000, '1m'],
    [5_400_000, '90m'],
    [3_600_000, '1h'],
    [604_800_000, '168h'],
  ];

  it.each(cases)('%i ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('round trips', () => {
  it.each([0, 1, 250, 999, 1000, 1500, 59_000, 60_000, 61_000, 90_000, 3_600_000, 3_601_000, 86_400_000])(
    'parse(format(%i)) is the same number',
    (ms) => {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    },
  );

  it.each([
    ['500ms', '500ms'],
    ['30s', '30s'],
    ['5m', '5m'],
    ['1h', '1h'],
    ['60s', '1m'],
    ['60m', '1h'],
    ['1000ms', '1s'],
    ['1.5m', '90s'],
  ])('format(parse(%s)) is the shortest form %s', (text, shortest) => {
    expect(formatDuration(parseDuration(text))).toBe(shortest);
  });
});
