/**
 * The HTTPS front door for a scenario: HAProxy from the repository's config
 * (deploy/haproxy/haproxy.cfg) on a free loopback port, in front of the given API processes, with
 * a self-signed certificate made by scripts/proxy-cert.sh in the scenario's folder. Its own
 * process, stopped by its pid.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../helpers/platform.js';
import { sleep } from './wait.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const run = promisify(execFile);

export interface FrontDoor {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** The certificate clients trust (PEM). */
  ca: string;
  pid: number;
  output(): string;
  /** SIGTERM by pid; resolves once HAProxy has exited. */
  stop(): Promise<void>;
}

/** An HTTPS answer, read whole. */
export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTPS request through `agent` (which trusts the front door's certificate); rejects on a
 * connection error or after `timeoutMs`.
 */
export function httpsRequest(
  agent: Agent,
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: o.method ?? 'GET', headers: o.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.once('error', reject);
    });
    req.setTimeout(o.timeoutMs ?? 30_000, () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end(o.body);
  });
}

/** Starts HAProxy on a free port in front of `apis` (their `http://host:port` URLs). */
export async function startFrontDoor(dir: string, apis: string[]): Promise<FrontDoor> {
  await run('haproxy', ['-v']).catch(() => {
    throw new Error('haproxy is not installed: run `npm run services:up` (it installs the Debian package)');
  });
  const certDir = join(dir, 'proxy');
  await run('bash', [join(ROOT, 'scripts', 'proxy-cert.sh'), certDir]);
  const template = await readFile(join(ROOT, 'deploy', 'haproxy', 'haproxy.cfg'), 'utf8');
  // `backend api` is the template's last section: the servers are appended to it.
  const servers = apis.map((u, i) => `    server api${i + 1} ${new URL(u).host}\n`).join('');
  const cfg = join(certDir, 'haproxy.cfg');
  await writeFile(cfg, `${template.trimEnd()}\n${servers}`);
  const port = await freePort();
  const child = spawn('haproxy', ['-db', '-f', cfg], {
    env: {
      ...process.env,
      FAAS_PROXY_BIND: `127.0.0.1:${port}`,
      FAAS_PROXY_CERT: join(certDir, 'proxy.pem'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ca = await readFile(join(certDir, 'cert.pem'), 'utf8');
  const url = `https://127.0.0.1:${port}`;
  const agent = new Agent({ ca });
  const deadline = Date.now() + 20_000;
  try {
    for (;;) {
      const ok = await httpsRequest(agent, `${url}/healthz`, { timeoutMs: 2000 }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`HAProxy did not become ready (exit ${child.exitCode}):\n${out.slice(-4000)}`);
      }
      await sleep(100);
    }
  } finally {
    agent.destroy();
  }
  return {
    url,
    ca,
    pid: child.pid as number,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
