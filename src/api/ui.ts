import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Context, Hono } from 'hono';
import { HttpError } from './errors.js';

export interface UiDeps {
  /** The folder `scripts/bundle-ui.mjs` writes: `index.html` and `assets/`. */
  dir: string;
}

interface Asset {
  body: Uint8Array;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
};

/**
 * Everything the console loads comes from this origin; no inline script or style, no frames,
 * no form posts elsewhere. Data is fetched from the API on the same origin.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** Reads the bundle once: the files are fixed for the life of the process. */
async function load(dir: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  const add = async (rel: string) => {
    const body = await readFile(join(dir, rel));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(rel, { body, type: TYPES[extname(rel)] ?? 'application/octet-stream', etag });
  };
  await add('index.html');
  for (const f of await readdir(join(dir, 'assets'))) await add(`assets/${f}`);
  return assets;
}

function send(c: Context, asset: Asset, cacheControl: string): Response {
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'Content-Type': asset.type,
    'Cache-Control': cacheControl,
    ETag: asset.etag,
  };
  if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
  return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, headers);
}

/**
 * The web console at `/ui`: hashed assets under `/ui/assets/` (cached for good), and the HTML
 * shell for every other `/ui` path, so each page's address can be bookmarked (the browser
 * routes). The shell and assets hold no data and load without the token; every API call the
 * console makes carries it.
 * @example uiRoutes(app, { dir: fileURLToPath(new URL('../ui/', import.meta.url)) });
 */
export function uiRoutes(app: Hono, d: UiDeps): void {
  let assets: Promise<Map<string, Asset>> | undefined;
  const bundle = () => {
    assets ??= load(d.dir).catch((err: Error) => {
      assets = undefined;
      throw new HttpError(
        503,
        'console_not_built',
        `the console is not built (${err.message}): run \`npm run build\``,
      );
    });
    return assets;
  };

  app.get('/ui/assets/:file', async (c) => {
    const asset = (await bundle()).get(`assets/${c.req.param('file')}`);
    if (!asset) throw new HttpError(404, 'not_found', 'no such asset');
    // File names carry a content hash: a new build gets new names.
    return send(c, asset, 'public, max-age=31536000, immutable');
  });

  const shell = async (c: Context) => send(c, (await bundle()).get('index.html') as Asset, 'no-cache');
  app.get('/ui', shell);
  app.get('/ui/*', shell);
}
