import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configWarnings, isLoopback, loadConfig } from '../../src/config/index.js';

const TOKEN = 't'.repeat(16);

/** The ConfigError `env` produces; fails the test when it is accepted. */
function refusal(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it('an empty environment matches the local services', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_ACCESS_KEY_ID: 'minioadmin',
      S3_SECRET_ACCESS_KEY: 'minioadmin',
      S3_REGION: 'us-east-1',
      FAAS_PORT: 8080,
      FAAS_MANIFEST: 'functions/manifest.yaml',
      FAAS_PREWARM: 1,
      FAAS_BODY_LIMIT: 6 * 1024 * 1024,
      FAAS_INVOCATION_TTL: '168h',
      FAAS_LOG_LEVEL: 'info',
      apiHost: '127.0.0.1',
      stateDir: join(homedir(), '.local', 'state', 'faas'),
    });
    expect(c.FAAS_API_TOKEN).toBeUndefined();
    expect(c.FAAS_MAX_CONTAINERS).toBeUndefined();
  });

  it('the HTTP edge defaults: timeouts, connections per source, no metrics token', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      FAAS_HEADERS_TIMEOUT: '10s',
      FAAS_REQUEST_TIMEOUT: '60s',
      FAAS_KEEPALIVE_TIMEOUT: '65s',
      FAAS_MAX_CONNECTIONS_PER_SOURCE: 256,
    });
    expect(c.FAAS_METRICS_TOKEN).toBeUndefined();
  });

  it('reads the HTTP edge settings', () => {
    const c = loadConfig({
      FAAS_HEADERS_TIMEOUT: '500ms',
      FAAS_REQUEST_TIMEOUT: '2m',
      FAAS_KEEPALIVE_TIMEOUT: '5s',
      FAAS_MAX_CONNECTIONS_PER_SOURCE: '5',
      FAAS_METRICS_TOKEN: 'm'.repeat(16),
    });
    expect(c).toMatchObject({
      FAAS_HEADERS_TIMEOUT: '500ms',
      FAAS_REQUEST_TIMEOUT: '2m',
      FAAS_KEEPALIVE_TIMEOUT: '5s',
      FAAS_MAX_CONNECTIONS_PER_SOURCE: 5,
      FAAS_METRICS_TOKEN: 'm'.repeat(16),
    });
  });

  it('a header timeout equal to the request timeout is allowed', () => {
    expect(
      loadConfig({ FAAS_HEADERS_TIMEOUT: '30s', FAAS_REQUEST_TIMEOUT: '30s' }).FAAS_HEADERS_TIMEOUT,
    ).toBe('30s');
  });

  it('empty strings count as unset', () => {
    const c = loadConfig({ FAAS_PORT: '', REDIS_URL: '', FAAS_API_TOKEN: '' });
    expect(c.FAAS_PORT).toBe(8080);
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(c.apiHost).toBe('127.0.0.1');
  });

  it('ignores variables that are not settings', () => {
    expect(loadConfig({ PATH: '/usr/bin', SOMETHING_ELSE: 'x' })).not.toHaveProperty('PATH');
  });

  it('reads values and coerces numbers', () => {
    const c = loadConfig({ FAAS_PORT: '3000', FAAS_PREWARM: '0', FAAS_MAX_CONTAINERS: '12' });
    expect([c.FAAS_PORT, c.FAAS_PREWARM, c.FAAS_MAX_CONTAINERS]).toEqual([3000, 0, 12]);
  });

  it.each([
    [{ FAAS_STATE_DIR: '/srv/faas' }, '/srv/faas'],
    [{ XDG_STATE_HOME: '/xdg' }, join('/xdg', 'faas')],
    [{ HOME: '/home/u' }, join('/home/u', '.local', 'state', 'faas')],
    [{ HOME: '/home/u', XDG_STATE_HOME: '/xdg' }, join('/xdg', 'faas')],
    [{ FAAS_STATE_DIR: '/srv/faas', XDG_STATE_HOME: '/xdg' }, '/srv/faas'],
  ])('state dir from %j is %s', (env, stateDir) => {
    expect(loadConfig(env).stateDir).toBe(stateDir);
  });
});

describe('loadConfig refuses invalid values, naming the variable', () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ FAAS_PORT: 'abc' }, 'FAAS_PORT'],
    [{ FAAS_PORT: '70000' }, 'FAAS_PORT'],
    [{ FAAS_PORT: '80.5' }, 'FAAS_PORT'],
    [{ REDIS_URL: 'nonsense' }, 'REDIS_URL'],
    [{ S3_ENDPOINT: 'not a url' }, 'S3_ENDPOINT'],
    [{ FAAS_API_TOKEN: 'short' }, 'FAAS_API_TOKEN'],
    [{ FAAS_API_TOKEN: 't'.repeat(15) }, 'FAAS_API_TOKEN'],
    [{ FAAS_INSTANCE: 'Has_Upper' }, 'FAAS_INSTANCE'],
    [{ FAAS_PREWARM: '65' }, 'FAAS_PREWARM'],
    [{ FAAS_MAX_CONTAINERS: '0' }, 'FAAS_MAX_CONTAINERS'],
    [{ FAAS_BODY_LIMIT: '1023' }, 'FAAS_BODY_LIMIT'],
    [{ FAAS_INVOCATION_TTL: '7d' }, 'FAAS_INVOCATION_TTL'],
    [{ FAAS_LOG_LEVEL: 'verbose' }, 'FAAS_LOG_LEVEL'],
    [{ FAAS_MAX_CONNECTIONS_PER_SOURCE: '0' }, 'FAAS_MAX_CONNECTIONS_PER_SOURCE'],
    [{ FAAS_MAX_CONNECTIONS_PER_SOURCE: '-1' }, 'FAAS_MAX_CONNECTIONS_PER_SOURCE'],
    [{ FAAS_MAX_CONNECTIONS_PER_SOURCE: '2.5' }, 'FAAS_MAX_CONNECTIONS_PER_SOURCE'],
    [{ FAAS_MAX_CONNECTIONS_PER_SOURCE: 'many' }, 'FAAS_MAX_CONNECTIONS_PER_SOURCE'],
    [{ FAAS_HEADERS_TIMEOUT: '10' }, 'FAAS_HEADERS_TIMEOUT'],
    [{ FAAS_REQUEST_TIMEOUT: '1d' }, 'FAAS_REQUEST_TIMEOUT'],
    [{ FAAS_KEEPALIVE_TIMEOUT: 'forever' }, 'FAAS_KEEPALIVE_TIMEOUT'],
    [{ FAAS_METRICS_TOKEN: 'short' }, 'FAAS_METRICS_TOKEN'],
    [{ FAAS_METRICS_TOKEN: `${'m'.repeat(16)} x` }, 'FAAS_METRICS_TOKEN'],
  ];

  it.each(cases)('%j names %s, on one line', (env, variable) => {
    const e = refusal(env);
    expect(e.message).toMatch(new RegExp(`\\b${variable}(="[^"]*")? must be `));
    expect(e.message).not.toContain('\n');
    expect(e.name).toBe('ConfigError');
  });

  it('never repeats the value of a secret', () => {
    const e = refusal({ FAAS_API_TOKEN: 'hunter2 x' });
    expect(e.message).not.toContain('hunter2');
  });

  it('lists every invalid variable at once', () => {
    const e = refusal({ FAAS_PORT: 'abc', REDIS_URL: 'nonsense' });
    expect(e.message).toMatch(/FAAS_PORT="abc" must be a whole number/);
    expect(e.message).toMatch(/REDIS_URL="nonsense" must be a URL/);
  });

  it.each(['FAAS_HEADERS_TIMEOUT', 'FAAS_REQUEST_TIMEOUT', 'FAAS_KEEPALIVE_TIMEOUT'])(
    '%s=0s is refused: a timeout of zero would mean none',
    (variable) => {
      const e = refusal({ [variable]: '0s' });
      expect(e.message).toContain(`${variable}=0s`);
    },
  );

  it('a header timeout longer than the request timeout is refused, naming both', () => {
    const e = refusal({ FAAS_HEADERS_TIMEOUT: '2m', FAAS_REQUEST_TIMEOUT: '1m' });
    expect(e.message).toContain('FAAS_HEADERS_TIMEOUT=2m');
    expect(e.message).toContain('FAAS_REQUEST_TIMEOUT=1m');
  });

  it('says what the token needs', () => {
    expect(refusal({ FAAS_API_TOKEN: 'short' }).message).toContain(
      'FAAS_API_TOKEN must be at least 16 characters',
    );
  });
});

describe('the API stays on loopback unless a token protects it', () => {
  it.each(['0.0.0.0', '192.168.1.10', '::'])('FAAS_HOST=%s without a token is refused', (host) => {
    const e = refusal({ FAAS_HOST: host });
    expect(e.message).toContain(`FAAS_HOST=${host}`);
    expect(e.message).toContain('FAAS_API_TOKEN');
  });

  it.each(['127.0.0.1', '::1', 'localhost'])('FAAS_HOST=%s without a token is allowed', (host) => {
    expect(loadConfig({ FAAS_HOST: host }).apiHost).toBe(host);
  });

  it('FAAS_HOST=0.0.0.0 with a token is allowed', () => {
    const c = loadConfig({ FAAS_HOST: '0.0.0.0', FAAS_API_TOKEN: TOKEN });
    expect(c.apiHost).toBe('0.0.0.0');
    expect(c.FAAS_API_TOKEN).toBe(TOKEN);
  });

  it('a token without FAAS_HOST listens on all interfaces', () => {
    expect(loadConfig({ FAAS_API_TOKEN: TOKEN }).apiHost).toBe('0.0.0.0');
  });

  it('a token with FAAS_HOST keeps the host asked for', () => {
    expect(loadConfig({ FAAS_API_TOKEN: TOKEN, FAAS_HOST: '127.0.0.1' }).apiHost).toBe('127.0.0.1');
  });
});

describe('isLoopback', () => {
  const cases: Array<[string, boolean]> = [
    ['http://127.0.0.1:9000', true],
    ['http://127.0.0.1', true],
    ['https://127.1.2.3/', true],
    ['http://localhost:9000', true],
    ['http://localhost:9000/path', true],
    ['http://[::1]:9000', true],
    ['127.0.0.1:9000', true],
    ['http://minio:9000', false],
    ['https://s3.amazonaws.com', false],
    ['http://10.0.0.5:9000', false],
    ['http://127.0.0.1.evil.example:9000', false],
    ['http://localhost.evil.example', false],
    ['http://localhost@evil.example', false],
    ['http://127.0.0.1:9000@evil.example', false],
    ['http://evil.example/127.0.0.1', false],
  ];

  it.each(cases)('%s → %s', (url, expected) => {
    expect(isLoopback(url)).toBe(expected);
  });
});

describe('configWarnings', () => {
  it.each([
    ['http://minio.internal:9000', 'minioadmin', 1],
    ['https://s3.example.com', 'minioadmin', 1],
    ['http://127.0.0.1:9000', 'minioadmin', 0],
    ['http://localhost:9000', 'minioadmin', 0],
    ['http://minio.internal:9000', 'a-real-key', 0],
  ])('S3_ENDPOINT=%s with key %s → %i warning(s)', (endpoint, key, count) => {
    const warnings = configWarnings(loadConfig({ S3_ENDPOINT: endpoint, S3_ACCESS_KEY_ID: key }));
    expect(warnings).toHaveLength(count);
    if (count) expect(warnings[0]).toContain(endpoint);
    if (count) expect(warnings[0]).toContain('minioadmin');
  });

  it('the defaults warn about nothing', () => {
    expect(configWarnings(loadConfig({}))).toEqual([]);
  });
});
