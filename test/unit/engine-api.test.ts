import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineApi, EngineError } from '../../src/pool/engine-api.js';
import { engineAddress } from '../../src/pool/engine-host.js';
import { demux, LogTail } from '../../src/pool/engine-logs.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** A fake engine on a unix socket in a temporary folder: each test says how it answers. */
describe('EngineApi against a fake engine', () => {
  let dir: string;
  let server: Server;
  let engine: EngineApi;
  let handler: Handler;
  const seen: Array<{ method: string; url: string; body: string; type?: string }> = [];
  const connections = new Set<Socket>();
  let connected = 0;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faas-engine-api-'));
    seen.length = 0;
    connected = 0;
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ method: req.method ?? '', url: req.url ?? '', body, type: req.headers['content-type'] });
        handler(req, body, res);
      });
    });
    server.on('connection', (s: Socket) => {
      connected++;
      connections.add(s);
      s.on('close', () => connections.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(join(dir, 'docker.sock'), resolve));
    engine = new EngineApi(engineAddress({ DOCKER_HOST: `unix://${join(dir, 'docker.sock')}` }));
  });

  afterEach(async () => {
    engine.close();
    for (const s of connections) s.destroy();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const json = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };

  it('pings /_ping without an API version, and reuses one connection for the next requests', async () => {
    handler = (_req, _body, res) => res.end('OK');
    await engine.ping();
    await engine.ping();
    await engine.startContainer('abc');
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /_ping',
      'GET /_ping',
      'POST /containers/abc/start',
    ]);
    expect(connected).toBe(1);
  });

  it('creates a container: the name in the query, the spec as JSON; answers its id', async () => {
    const id = 'a'.repeat(64);
    handler = (_req, _body, res) => json(res, 201, { Id: id, Warnings: [] });
    expect(
      await engine.createContainer('faas-x-1', { Image: 'img:1', Labels: { 'faas.platform': '1' } }),
    ).toBe(id);
    expect(seen[0]).toEqual({
      method: 'POST',
      url: '/containers/create?name=faas-x-1',
      body: '{"Image":"img:1","Labels":{"faas.platform":"1"}}',
      type: 'application/json',
    });
  });

  it('refuses a create answer without a container id', async () => {
    handler = (_req, _body, res) => json(res, 201, { Id: '../../etc' });
    await expect(engine.createContainer('x', {})).rejects.toThrow(
      'the Docker engine answered a container create without a container id',
    );
  });

  it('sends kill, update, remove and wait as the Engine API names them', async () => {
    handler = (req, _body, res) =>
      req.url?.includes('/update') ? json(res, 200, { Warnings: [] }) : res.end();
    await engine.killContainer('c1', 'SIGKILL');
    await engine.updateContainer('c1', { Memory: 1024, PidsLimit: 5 });
    await engine.removeContainer('c1', { force: true });
    await engine.waitContainer('c1');
    expect(seen.map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual([
      'POST /containers/c1/kill?signal=SIGKILL ',
      'POST /containers/c1/update {"Memory":1024,"PidsLimit":5}',
      'DELETE /containers/c1?force=true&v=true ',
      'POST /containers/c1/wait ',
    ]);
  });

  it('errors carry the engine message and status (404, 409), one line and bounded', async () => {
    handler = (req, _body, res) => {
      if (req.url?.startsWith('/containers/gone'))
        return json(res, 404, { message: 'No such container: gone' });
      if (req.url?.startsWith('/containers/stopped')) return json(res, 409, { message: 'is not running' });
      if (req.url?.startsWith('/containers/text')) return res.writeHead(500).end('plain\ntext\u0007 answer');
      if (req.url?.startsWith('/containers/empty')) return res.writeHead(502).end();
      json(res, 500, { message: 'x'.repeat(200_000) });
    };
    const gone = (await engine.killContainer('gone').catch((e: unknown) => e)) as EngineError;
    expect(gone).toBeInstanceOf(EngineError);
    expect(gone.status).toBe(404);
    expect(gone.engineMessage).toBe('No such container: gone');
    expect(gone.request).toBe('POST /containers/gone/kill');
    expect(gone.message).toBe('No such container: gone (the Docker engine answered 404)');
    const stopped = (await engine.killContainer('stopped').catch((e: unknown) => e)) as EngineError;
    expect(stopped.status).toBe(409);
    const text = (await engine.inspectContainer('text').catch((e: unknown) => e)) as EngineError;
    expect(text.engineMessage).toBe('plain text answer');
    const empty = (await engine.inspectContainer('empty').catch((e: unknown) => e)) as EngineError;
    expect(empty.message).toBe('status 502 (the Docker engine answered 502)');
    const huge = (await engine.inspectContainer('huge').catch((e: unknown) => e)) as EngineError;
    expect(huge.status).toBe(500);
    expect(huge.engineMessage.length).toBeLessThanOrEqual(1001);
  });

  it('a connection error keeps Node’s message (the path of the socket it tried)', async () => {
    const nowhere = new EngineApi({ socketPath: join(dir, 'none.sock') });
    await expect(nowhere.ping()).rejects.toThrow(`connect ENOENT ${join(dir, 'none.sock')}`);
  });

  it('reads a container state; a malformed one is an error, not a crash', async () => {
    let answer: unknown = { State: { Running: false, ExitCode: 137, OOMKilled: true, Status: 'exited' } };
    handler = (_req, _body, res) => json(res, 200, answer);
    expect(await engine.inspectContainer('c')).toEqual({ running: false, exitCode: 137, oomKilled: true });
    for (answer of [
      { State: { Running: 'yes', ExitCode: 0, OOMKilled: false } },
      { State: null },
      [],
      null,
    ]) {
      await expect(engine.inspectContainer('c')).rejects.toThrow(/the Docker engine's answer is malformed/);
    }
    handler = (_req, _body, res) => res.end('{"State": ');
    await expect(engine.inspectContainer('c')).rejects.toThrow(
      "the Docker engine's answer to GET /containers/c/json is not JSON",
    );
  });

  it('lists containers and images by label filters; labels stay plain own strings', async () => {
    handler = (req, _body, res) =>
      req.url?.startsWith('/containers')
        ? res.end(
            '[{"Id":"c1","Labels":{"faas.platform":"1","__proto__":"x","n":5}},{"Id":"c2","Labels":null}]',
          )
        : json(res, 200, [
            { Created: 5, Labels: { 'faas.runtime.tag': 'img:1' }, RepoTags: ['img:1', 7] },
            { Created: 6, Labels: null, RepoTags: null },
          ]);
    const containers = await engine.listContainers({ 'faas.platform': '', 'faas.instance': 'i-1' });
    expect(containers).toHaveLength(2);
    expect(containers[0]?.id).toBe('c1');
    expect(Object.getPrototypeOf(containers[0]?.labels)).toBe(Object.prototype);
    expect(Object.entries(containers[0]?.labels ?? {})).toEqual([
      ['faas.platform', '1'],
      ['__proto__', 'x'],
    ]);
    expect(containers[1]?.labels).toEqual({});
    const url = new URL(seen[0]?.url ?? '', 'http://x');
    expect(url.pathname).toBe('/containers/json');
    expect(url.searchParams.get('all')).toBe('true');
    expect(JSON.parse(url.searchParams.get('filters') ?? '')).toEqual({
      label: ['faas.platform', 'faas.instance=i-1'],
    });
    expect(await engine.listImages({ 'faas.runtime.bundle': 'abc' })).toEqual([
      { created: 5, labels: { 'faas.runtime.tag': 'img:1' }, repoTags: ['img:1'] },
      { created: 6, labels: {}, repoTags: [] },
    ]);
    expect(JSON.parse(new URL(seen[1]?.url ?? '', 'http://x').searchParams.get('filters') ?? '')).toEqual({
      label: ['faas.runtime.bundle=abc'],
    });
    handler = (_req, _body, res) => json(res, 200, [{ Labels: {} }]);
    await expect(engine.listContainers({})).rejects.toThrow('a listed container without Id');
  });

  it('inspects an image by its name, slashes and tag as they are', async () => {
    handler = (req, _body, res) =>
      req.url === '/images/registry.local/faas/runtime%3A1/json'
        ? json(res, 200, {})
        : json(res, 404, { message: 'no' });
    await engine.inspectImage('registry.local/faas/runtime:1');
    await expect(engine.inspectImage('other')).rejects.toMatchObject({ status: 404 });
  });

  it('refuses a JSON answer larger than 16 MiB', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`[${'"x",'.repeat(4 * 1024 * 1024)}"x"]`);
    };
    await expect(engine.listContainers({})).rejects.toThrow(
      "the Docker engine's answer to GET /containers/json is larger than 16777216 bytes",
    );
  });

  it('logs: joins the multiplexed frames, split anywhere, and keeps only the end', async () => {
    const frame = (stream: number, text: string) => {
      const payload = Buffer.from(text);
      const header = Buffer.alloc(8);
      header.writeUInt8(stream, 0);
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    };
    const raw = Buffer.concat([frame(1, 'hello\n'), frame(2, 'FATAL ERROR: heap out of memory\n')]);
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.docker.raw-stream' });
      // One byte at a time: headers and payloads cut at every place.
      let i = 0;
      const next = () => (i < raw.length ? res.write(raw.subarray(i, ++i), next) : res.end());
      next();
    };
    expect(await engine.containerLogs('c', 20)).toBe('hello\nFATAL ERROR: heap out of memory\n');
    expect(new URL(seen[0]?.url ?? '', 'http://x').search).toBe(
      '?stdout=true&stderr=true&tail=20&follow=false',
    );
    // At most 16 bytes: the end of the output.
    expect(await engine.containerLogs('c', 20, 16)).toBe('p out of memory\n');
  });

  it('a signal gives a wait up and frees its connection', async () => {
    const held: ServerResponse[] = [];
    handler = (_req, _body, res) => held.push(res);
    const started = Date.now();
    await expect(engine.waitContainer('c', AbortSignal.timeout(100))).rejects.toThrow(/abort/i);
    expect(Date.now() - started).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(connections.size).toBe(0);
    for (const res of held) res.destroy();
  });
});

describe('demux and LogTail', () => {
  it('joins payloads and drops a cut header', () => {
    const header = Buffer.from([1, 0, 0, 0, 0, 0, 0, 3]);
    expect(demux(Buffer.concat([header, Buffer.from('abc'), Buffer.from([2, 0, 0])]))).toBe('abc');
  });

  it('keeps the last bytes of a flood', () => {
    const tail = new LogTail(10);
    const header = Buffer.alloc(8);
    header.writeUInt32BE(1_000_000, 4);
    tail.push(header);
    for (let i = 0; i < 1000; i++) tail.push(Buffer.from(`${String(i).padStart(999, '.')}\n`));
    expect(tail.text()).toBe('.......999\n'.slice(-10));
  });
});

/** TCP and TLS, against fake engines on 127.0.0.1 with certificates made for the test by openssl. */
describe('EngineApi over TCP and TLS', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faas-engine-tls-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('tcp://127.0.0.1:port, with a base path', async () => {
    const urls: string[] = [];
    const server = createServer((req, res) => {
      urls.push(req.url ?? '');
      res.end('OK');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const engine = new EngineApi(engineAddress({ DOCKER_HOST: `tcp://127.0.0.1:${port}/proxied` }));
    try {
      await engine.ping();
      expect(urls).toEqual(['/proxied/_ping']);
    } finally {
      engine.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('DOCKER_TLS_VERIFY: verifies the engine against ca.pem and presents cert.pem/key.pem', async () => {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca-key.pem',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=test-ca',
    );
    const issue = (name: string, ext: string) => {
      ssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}-key.pem`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=${name}`,
      );
      ssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca-key.pem',
        '-CAcreateserial',
        '-out',
        `${name}.pem`,
        '-days',
        '2',
        '-extfile',
        ext,
      );
    };
    await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    await writeFile(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    issue('server', 'server.ext');
    issue('client', 'client.ext');
    // The docker CLI's file names: the client's certificate and key as cert.pem and key.pem.
    ssl('x509', '-in', 'client.pem', '-out', 'cert.pem');
    ssl('pkey', '-in', 'client-key.pem', '-out', 'key.pem');
    const clients: Array<string | undefined> = [];
    const server = createHttpsServer(
      {
        key: await readFile(join(dir, 'server-key.pem')),
        cert: await readFile(join(dir, 'server.pem')),
        ca: await readFile(join(dir, 'ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        clients.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
        res.end('OK');
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const env = { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir };
    const engine = new EngineApi(engineAddress(env));
    // The same engine, but trusting another CA: the engine's certificate is refused.
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'other-key.pem',
      '-out',
      'other.pem',
      '-days',
      '2',
      '-subj',
      '/CN=other',
    );
    const other = engineAddress(env);
    if (!('tls' in other) || !other.tls) throw new Error('no TLS');
    const untrusting = new EngineApi({
      ...other,
      tls: { ...other.tls, ca: await readFile(join(dir, 'other.pem')) },
    });
    try {
      await engine.ping();
      expect(clients).toEqual(['client']);
      await expect(untrusting.ping()).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    } finally {
      engine.close();
      untrusting.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
