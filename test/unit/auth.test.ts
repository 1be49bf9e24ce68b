import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { bearerAuth, safeEqual } from '../../src/api/auth.js';
import { onError } from '../../src/api/errors.js';

const TOKEN = 'x'.repeat(20);

describe('safeEqual', () => {
  const cases: Array<[string, string, boolean]> = [
    ['same', 'same', true],
    ['', '', true],
    [TOKEN, TOKEN, true],
    ['secret', 'secreT', false],
    ['secret', 'Secret', false],
    ['secret', 'secret ', false],
    ['secret', 'secre', false],
    ['short', 'a much longer string than the other', false],
    ['', 'x', false],
    ['é', 'e', false],
  ];

  it.each(cases)('%j vs %j → %s', (a, b, expected) => {
    expect(safeEqual(a, b)).toBe(expected);
    expect(safeEqual(b, a)).toBe(expected);
  });
});

/** Errors the app's handler logged as internal: a refusal must never end up here. */
let logged: Error[] = [];

function app(token: string | undefined): Hono {
  const a = new Hono();
  a.onError(onError((err) => logged.push(err)));
  a.use('*', bearerAuth(token));
  a.get('/functions', (c) => c.json({ ok: true }));
  return a;
}

describe('bearerAuth with a token configured', () => {
  const protectedApp = app(TOKEN);

  const refused: Array<[string, Record<string, string>]> = [
    ['missing header', {}],
    ['empty header', { Authorization: '' }],
    ['wrong token', { Authorization: `Bearer ${'y'.repeat(20)}` }],
    ['token prefix only', { Authorization: `Bearer ${TOKEN.slice(0, 19)}` }],
    ['token with extra characters', { Authorization: `Bearer ${TOKEN}x` }],
    ['no scheme', { Authorization: TOKEN }],
    ['Basic scheme', { Authorization: `Basic ${TOKEN}` }],
    ['scheme without token', { Authorization: 'Bearer' }],
    ['scheme and space only', { Authorization: 'Bearer ' }],
    ['no space after scheme', { Authorization: `Bearer${TOKEN}` }],
  ];

  it.each(refused)('%s → 401 with WWW-Authenticate', async (_label, headers) => {
    logged = [];
    const res = await protectedApp.request('/functions', { headers });
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer realm="faas"');
    expect(await res.json()).toEqual({
      error: { code: 'unauthorized', message: 'a valid bearer token is required' },
    });
    expect(logged).toEqual([]);
  });

  it.each([
    ['exact header', `Bearer ${TOKEN}`],
    ['lower-case scheme', `bearer ${TOKEN}`],
    ['several spaces', `Bearer   ${TOKEN}`],
  ])('%s → 200', async (_label, header) => {
    const res = await protectedApp.request('/functions', { headers: { Authorization: header } });
    expect(res.status).toBe(200);
    expect(res.headers.get('WWW-Authenticate')).toBeNull();
    expect(await res.json()).toEqual({ ok: true });
  });

  it('a refused request never reaches the handler', async () => {
    let reached = false;
    const a = new Hono();
    a.onError(onError(() => {}));
    a.use('*', bearerAuth(TOKEN));
    a.get('/', (c) => {
      reached = true;
      return c.text('ok');
    });
    expect((await a.request('/')).status).toBe(401);
    expect(reached).toBe(false);
  });
});

describe('bearerAuth without a token', () => {
  it.each([
    ['no header', {}],
    ['any header', { Authorization: 'Bearer whatever' }],
  ] as Array<[string, Record<string, string>]>)('is open: %s → 200', async (_label, headers) => {
    const res = await app(undefined).request('/functions', { headers });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('an empty token counts as no token', async () => {
    expect((await app('').request('/functions')).status).toBe(200);
  });
});

describe('bearerAuth with several tokens (/metrics: the API token or the metrics token)', () => {
  const API = 'a'.repeat(20);
  const METRICS = 'm'.repeat(20);
  const status = async (tokens: Array<string | undefined>, header?: string) => {
    const a = new Hono();
    a.onError(onError(() => {}));
    a.get('/metrics', bearerAuth(tokens), (c) => c.text('ok'));
    return (await a.request('/metrics', { headers: header ? { Authorization: header } : {} })).status;
  };

  const cases: Array<[string, Array<string | undefined>, string | undefined, number]> = [
    ['both set, API token', [API, METRICS], `Bearer ${API}`, 200],
    ['both set, metrics token', [API, METRICS], `Bearer ${METRICS}`, 200],
    ['both set, no header', [API, METRICS], undefined, 401],
    ['both set, wrong token', [API, METRICS], `Bearer ${'w'.repeat(20)}`, 401],
    ['both set, the two run together', [API, METRICS], `Bearer ${API}${METRICS}`, 401],
    ['API token only, metrics token presented', [API, undefined], `Bearer ${METRICS}`, 401],
    ['API token only, API token', [API, undefined], `Bearer ${API}`, 200],
    ['metrics token only, no header', [undefined, METRICS], undefined, 401],
    ['metrics token only, metrics token', [undefined, METRICS], `Bearer ${METRICS}`, 200],
    ['neither set, no header', [undefined, undefined], undefined, 200],
  ];

  it.each(cases)('%s → %i', async (_label, tokens, header, expected) => {
    expect(await status(tokens, header)).toBe(expected);
  });
});
