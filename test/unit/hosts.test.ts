import { describe, expect, it } from 'vitest';
import { renderHosts } from '../../src/cli/commands/status.js';
import { DOWN_AFTER_MS, FORGET_AFTER_MS, hostsView } from '../../src/pool/hosts.js';

const T = 1_700_000_000_000;
const report = (id: string, ageMs: number) => ({ id, capacity: 8, containers: 2, lastHeartbeat: T - ageMs });

describe('hostsView', () => {
  it.each([
    ['beating now', 0, true],
    ['a beat or two missed', DOWN_AFTER_MS, true],
    ['silent past the limit', DOWN_AFTER_MS + 1, false],
    ['silent for minutes', FORGET_AFTER_MS, false],
  ])('%s: up=%s', (_what, age, up) => {
    expect(hostsView([report('w1', age)], T)).toEqual([{ ...report('w1', age), up }]);
  });

  it('forgets a host silent for longer than FORGET_AFTER_MS, and sorts by id', () => {
    const view = hostsView([report('w2', 0), report('gone', FORGET_AFTER_MS + 1), report('w1', 0)], T);
    expect(view.map((h) => h.id)).toEqual(['w1', 'w2']);
  });
});

describe('faas status hosts', () => {
  it('prints one line per host, down ones in capitals, nothing without hosts', () => {
    expect(renderHosts([], T)).toEqual([]);
    const lines = renderHosts(hostsView([report('w1', 500), report('w2', 30_000)], T), T);
    expect(lines[1]).toMatch(/^w1\s+up\s+2\s+8\s+0\.5s ago$/);
    expect(lines[2]).toMatch(/^w2\s+DOWN\s+2\s+8\s+30\.0s ago$/);
  });

  it('shows a host that beats but whose engine does not answer as unhealthy, with the problem', () => {
    const sick = {
      ...report('w3', 500),
      healthy: false,
      problem: 'the Docker engine does not answer: ENOENT',
    };
    const [, line] = renderHosts(hostsView([sick], T), T);
    expect(line).toMatch(
      /^w3\s+UNHEALTHY\s+2\s+8\s+0\.5s ago {2}\(the Docker engine does not answer: ENOENT\)$/,
    );
  });
});
