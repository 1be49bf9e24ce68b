import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import { describeError } from '../../src/cli/report.js';
import { ManifestError } from '../../src/manifest/errors.js';
import { UserError } from '../../src/util/user-error.js';

describe('describeError: what the CLI prints for the error that ended a command', () => {
  it('a user error is one line with its fix', () => {
    expect(describeError(new UserError('Redis is not reachable', 'start it'), false)).toEqual({
      lines: ['faas: Redis is not reachable: start it'],
      bug: false,
    });
  });

  it('a user error written over several lines still prints as one', () => {
    expect(describeError(new ConfigError('a\n  b'), false).lines).toEqual(['faas: a; b']);
  });

  it('a manifest error is a line per problem and a summary', () => {
    const err = new ManifestError('/m.yaml', [
      { path: 'functions.x.timeout', message: 'must be a duration', line: 4, column: 5 },
      { path: '', message: 'the manifest is empty' },
    ]);
    expect(describeError(err, false).lines).toEqual([
      '/m.yaml:4:5: functions.x.timeout: must be a duration',
      '/m.yaml: the manifest is empty',
      '✗ /m.yaml: 2 problems, nothing started: fix them, then check with `faas validate`',
    ]);
  });

  it('a refused connection names the address and the command that starts the services', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), {
      code: 'ECONNREFUSED',
      address: '127.0.0.1',
      port: 6379,
    });
    const { lines, bug } = describeError(err, false);
    expect(bug).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/nothing answers at 127\.0\.0\.1:6379 \(ECONNREFUSED\).*npm run services:up/);
  });

  it('anything else is a bug: its message and a request to report it, the stack only when debugging', () => {
    const err = new TypeError('x is undefined');
    const quiet = describeError(err, false);
    expect(quiet.bug).toBe(true);
    expect(quiet.lines).toEqual([
      'faas: unexpected error: x is undefined',
      expect.stringMatching(/this is a bug: please report it.*FAAS_DEBUG=1 or --debug/),
    ]);
    expect(quiet.lines.join('\n')).not.toMatch(/\n\s+at /);
    expect(describeError(err, true).lines.join('\n')).toMatch(/\n\s+at /);
  });
});
