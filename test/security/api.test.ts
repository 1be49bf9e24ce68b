/**
 * The HTTP surface with `FAAS_API_TOKEN` set: the admin API and MinIO's event endpoint refuse
 * missing and wrong tokens (and run nothing), oversized bodies are refused with 413 without the
 * platform buffering them, and `faas validate` refuses manifests whose paths climb out of their
 * folder.
 */
import { CreateBucketCommand, DeleteBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startPlatformProcess, writeManifestDir, type RunningPlatform } from '../helpers/platform.js';
import { requireDocker, requireMinio, requireRedis, uniqueName } from '../helpers/services.js';

const TOKEN = randomBytes(24).toString('hex');
const MINIO_TOKEN = randomBytes(24).toString('hex');
const BODY_LIMIT = 64 * 1024;
const FLOOD_BYTES = 256 * 1024 * 1024;
const RSS_LIMIT_MB = 300;

interface Flood {
  status: number;
  sent: number;
  peakRssMb: number;
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
}

/**
 * Streams `total` bytes (chunked, no Content-Length) until the server answers, and samples the
 * platform's resident memory meanwhile.
 */
async function flood(
  url: string,
  headers: Record<string, string>,
  total: number,
  pid: number,
): Promise<Flood> {
  let peakRssMb = await rssMb(pid);
  const sampler = setInterval(() => {
    void rssMb(pid).then(
      (mb) => (peakRssMb = Math.max(peakRssMb, mb)),
      () => undefined,
    );
  }, 20);
  const u = new URL(url);
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  try {
    const { status, sent } = await new Promise<{ status: number; sent: number }>((resolve) => {
      let sent = 0;
      let status = 0;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        resolve({ status, sent });
      };
      const req = request({
        hostname: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...headers },
      });
      req.on('response', (res) => {
        status = res.statusCode ?? 0;
        res.resume();
        res.once('end', () => (req.destroy(), finish()));
      });
      // The server may close the connection once it has answered.
      req.on('error', finish);
      req.on('close', finish);
      const pump = (): void => {
        while (!done && status === 0 && sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (sent >= total && status === 0) req.end();
      };
      pump();
    });
    await new Promise((r) => setTimeout(r, 200));
    return { status, sent, peakRssMb: Math.max(peakRssMb, await rssMb(pid)) };
  } finally {
    clearInterval(sampler);
  }
}

/** Runs `faas <args>` to its end. */
async function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = runCli(args);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, out };
}

function invocationsOf(metrics: string, fn: string): number {
  return [
    ...metrics.matchAll(new RegExp(`^faas_invocations_total\\{[^}]*function="${fn}"[^}]*\\} (\\d+)`, 'gm')),
  ]
    .map((m) => Number(m[1]))
    .reduce((a, b) => a + b, 0);
}

describe('HTTP API with a token', () => {
  let s3: S3Client;
  let platform: RunningPlatform;
  const bucket = uniqueName('api');

  beforeAll(async () => {
    (await requireRedis()).disconnect();
    await requireDocker();
    s3 = await requireMinio();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    platform = await startPlatformProcess(
      `version: 1
functions:
  echo:
    handler: echo/index.handler
    retry: { attempts: 1 }
    triggers:
      - bucket: ${bucket}
        prefix: never/
      - webhook:
          path: /hooks/echo
          mode: sync
`,
      ['echo'],
      {
        FAAS_API_TOKEN: TOKEN,
        // A token makes the API listen on every interface by default; the tests stay on loopback.
        FAAS_HOST: '127.0.0.1',
        FAAS_BODY_LIMIT: String(BODY_LIMIT),
        FAAS_MINIO_EVENTS_TOKEN: MINIO_TOKEN,
      },
    );
  }, 120_000);

  afterAll(async () => {
    const code = await platform?.stop();
    expect(code).toBe(0);
    await s3?.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
    s3?.destroy();
  }, 60_000);

  const ROUTES: Array<[string, string]> = [
    ['GET', '/functions'],
    ['POST', '/functions/echo/invoke'],
    ['POST', '/functions/echo/invoke?async=1'],
    ['GET', '/invocations/echo.0123456789abcdef'],
    // Metrics name every function.
    ['GET', '/metrics'],
  ];
  const BAD_AUTH: Array<[string, Record<string, string>, string?]> = [
    ['no header', {}],
    ['a wrong token', { authorization: `Bearer ${randomBytes(24).toString('hex')}` }],
    ['the token less its last character', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['the token with one more character', { authorization: `Bearer ${TOKEN}0` }],
    ['the token upper-cased', { authorization: `Bearer ${TOKEN.toUpperCase()}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
    [
      'the token as Basic credentials',
      { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` },
    ],
    ['the token without a scheme', { authorization: TOKEN }],
    ["MinIO's event token", { authorization: `Bearer ${MINIO_TOKEN}` }],
    ['the token in the query string', {}, `token=${TOKEN}`],
  ];

  it.each(ROUTES)(
    '%s %s refuses every missing or wrong token with 401, and runs nothing',
    async (method, path) => {
      for (const [what, headers, query] of BAD_AUTH) {
        const url = `${platform.url}${path}${query ? `${path.includes('?') ? '&' : '?'}${query}` : ''}`;
        const res = await fetch(url, { method, headers, body: method === 'POST' ? '{"n":1}' : undefined });
        expect(res.status, `${what}: ${await res.clone().text()}`).toBe(401);
        expect(res.headers.get('www-authenticate'), what).toMatch(/^Bearer realm=/);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      }
      const metrics = await (
        await fetch(`${platform.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).text();
      expect(invocationsOf(metrics, 'echo'), 'no invocation ran').toBe(0);
    },
  );

  it('serves the same routes with the token (the control)', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const list = await fetch(`${platform.url}/functions`, { headers: auth });
    expect(list.status).toBe(200);
    expect(((await list.json()) as Array<{ name: string }>).map((f) => f.name)).toEqual(['echo']);
    const res = await fetch(`${platform.url}/functions/echo/invoke`, {
      method: 'POST',
      headers: auth,
      body: '{"n":7}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ echo: { n: 7 } });
    const id = res.headers.get('x-faas-invocation-id');
    expect((await fetch(`${platform.url}/invocations/${id}`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${platform.url}/invocations/${id}`)).status).toBe(401);
    // The metric the refusals were checked against counts this one call: it can tell.
    const metrics = await (
      await fetch(`${platform.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(invocationsOf(metrics, 'echo')).toBe(1);
  });

  it("POST /minio/events refuses a missing or wrong token with 401, and accepts MinIO's", async () => {
    const notification = JSON.stringify({
      Records: [
        {
          eventVersion: '2.0',
          eventSource: 'minio:s3',
          awsRegion: '',
          eventTime: new Date().toISOString(),
          eventName: 's3:ObjectCreated:Put',
          s3: {
            s3SchemaVersion: '1.0',
            bucket: { name: bucket },
            object: { key: 'elsewhere/x', size: 1, eTag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '1' },
          },
        },
      ],
    });
    const post = (headers: Record<string, string>) =>
      fetch(`${platform.url}/minio/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: notification,
      });
    const wrong: Array<Record<string, string>> = [
      {},
      { authorization: `Bearer ${randomBytes(24).toString('hex')}` },
      { authorization: `Bearer ${TOKEN}` },
      { authorization: `Bearer ${MINIO_TOKEN.slice(0, -1)}` },
      { authorization: 'Bearer ' },
    ];
    for (const headers of wrong) {
      const res = await post(headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
    const ok = await post({ authorization: `Bearer ${MINIO_TOKEN}` });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ accepted: 0 });
  });

  it('answers 413 to a body over the limit that declares its length', async () => {
    const body = JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT) });
    const invoke = await fetch(`${platform.url}/functions/echo/invoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body,
    });
    expect(invoke.status).toBe(413);
    expect(((await invoke.json()) as { error: { code: string } }).error.code).toBe('too_large');
    const hook = await fetch(`${platform.url}/hooks/echo`, { method: 'POST', body });
    expect(hook.status).toBe(413);
    // A body just under the limit is fine (the control).
    const small = await fetch(`${platform.url}/hooks/echo`, {
      method: 'POST',
      body: JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT - 100) }),
    });
    expect(small.status).toBe(200);
  });

  it('answers 431 to oversized headers', async () => {
    const res = await fetch(`${platform.url}/hooks/echo`, {
      method: 'POST',
      headers: { 'x-pad': 'x'.repeat(64 * 1024) },
      body: '{}',
    });
    expect(res.status).toBe(431);
  });

  it.each([
    ['a webhook', '/hooks/echo', {}],
    ['invoke without the token', '/functions/echo/invoke', {}],
    ['invoke with the token', '/functions/echo/invoke', { authorization: `Bearer ${TOKEN}` }],
    ["MinIO's event endpoint with its token", '/minio/events', { authorization: `Bearer ${MINIO_TOKEN}` }],
  ] as Array<[string, string, Record<string, string>]>)(
    'refuses a 256 MB streamed body to %s early, without buffering it',
    async (_what, path, headers) => {
      const r = await flood(`${platform.url}${path}`, headers, FLOOD_BYTES, platform.pid);
      console.log(
        `${path}: HTTP ${r.status} after ${r.sent / 1048576} MB sent, platform RSS peak ${r.peakRssMb.toFixed(0)} MB`,
      );
      expect(r.status).toBe(headers.authorization || path.startsWith('/hooks') ? 413 : 401);
      expect(r.peakRssMb).toBeLessThan(RSS_LIMIT_MB);
    },
    60_000,
  );

  it('stayed under the memory bound through every request', async () => {
    const peak = await platform.peakRssMb();
    console.log(`api: platform peak RSS ${peak.toFixed(1)} MB`);
    expect(peak).toBeLessThan(RSS_LIMIT_MB);
  });
});

describe('faas validate on manifests that climb out of their folder', () => {
  const dirs: string[] = [];

  async function manifestWith(fn: string): Promise<string> {
    const dir = await writeManifestDir(`version: 1\nfunctions:\n  evil:\n${fn}`, ['echo']);
    dirs.push(dir);
    return join(dir, 'manifest.yaml');
  }

  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it.each([
    [
      'a handler path with ..',
      '    handler: ../../etc/passwd.handler\n',
      /must stay inside the manifest's folder/,
    ],
    [
      'an absolute handler path',
      '    handler: /etc/passwd.handler\n',
      /must be a path relative to the manifest's folder/,
    ],
    ['a handler path with ..%2F', '    handler: echo/..%2F..%2Fetc/passwd.handler\n', /no handler file/],
    [
      'a storage grant with ..',
      '    handler: echo/index.handler\n    storage: { read: [uploads/../secrets/] }\n',
      /must not contain "\." or "\.\." segments/,
    ],
    [
      "a webhook on the platform's own API",
      '    handler: echo/index.handler\n    triggers:\n      - webhook: { path: /functions/echo/invoke }\n',
      /reserved for the platform/,
    ],
    [
      "an environment variable the platform's runtime reads",
      '    handler: echo/index.handler\n    env: { FAAS_SOCKET: /tmp/evil.sock }\n',
      /reserved for the platform/,
    ],
  ])('refuses %s (exit 1)', async (_what, fn, message) => {
    const { code, out } = await cli(['validate', await manifestWith(fn)]);
    expect(out).toMatch(message);
    expect(out).toMatch(/nothing applied/);
    expect(code).toBe(1);
  });

  it('refuses a handler that is a symlink to a file outside the folder (exit 1)', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'faas-outside-'));
    dirs.push(outside);
    await writeFile(join(outside, 'stolen.js'), 'export const handler = async () => "outside";\n');
    const file = await manifestWith('    handler: evil/index.handler\n');
    await mkdir(join(file, '..', 'evil'));
    await symlink(join(outside, 'stolen.js'), join(file, '..', 'evil', 'index.js'));
    const { code, out } = await cli(['validate', file]);
    expect(out).toMatch(/resolves to .*stolen\.js, outside the manifest's folder/);
    expect(code).toBe(1);
  });

  it('refuses to start on such a manifest: `faas up` exits 1 with nothing started', async () => {
    const { code, out } = await cli([
      'up',
      '--manifest',
      await manifestWith('    handler: ../../etc/passwd.handler\n'),
    ]);
    expect(out).toMatch(/must stay inside the manifest's folder/);
    expect(out).toMatch(/nothing started/);
    expect(code).toBe(1);
  });

  it('accepts the same manifest with a handler inside the folder (the control)', async () => {
    const { code, out } = await cli(['validate', await manifestWith('    handler: echo/index.handler\n')]);
    expect(out).toMatch(/✓/);
    expect(code).toBe(0);
  });
});
