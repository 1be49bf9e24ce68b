import { Hono } from 'hono';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onError } from '../../src/api/errors.js';
import { CONSOLE_CSP, uiRoutes } from '../../src/api/ui.js';

describe('the console at /ui', () => {
  let dir: string;
  const app = new Hono();
  app.onError(onError(() => undefined));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faas-ui-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>shell</title>');
    await writeFile(join(dir, 'assets', 'app-ABC.js'), 'console.log(1)');
    await writeFile(join(dir, 'assets', 'app-ABC.css'), 'body{}');
    uiRoutes(app, { dir });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each(['/ui', '/ui/', '/ui/functions/x', '/ui/invocations/x.0123', '/ui/dlq', '/ui/anything/else'])(
    '%s answers with the shell (the browser routes)',
    async (path) => {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toContain('shell');
    },
  );

  it.each([
    ['/ui/assets/app-ABC.js', 'text/javascript; charset=utf-8'],
    ['/ui/assets/app-ABC.css', 'text/css; charset=utf-8'],
  ])('%s: its type, cached for good, 304 for its ETag', async (path, type) => {
    const res = await app.request(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = res.headers.get('etag') as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await app.request(path, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('an unknown asset is a 404, not the shell', async () => {
    expect((await app.request('/ui/assets/nope.js')).status).toBe(404);
  });

  it('a console that was not built says how to build it', async () => {
    const bare = new Hono();
    bare.onError(onError(() => undefined));
    uiRoutes(bare, { dir: join(dir, 'missing') });
    const res = await bare.request('/ui');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/npm run build/);
  });

  it('the CSP allows nothing from elsewhere and nothing inline', () => {
    expect(CONSOLE_CSP).toContain("default-src 'none'");
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
  });
});
