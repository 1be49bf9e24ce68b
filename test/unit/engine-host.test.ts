import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_SOCKET,
  describeAddress,
  engineAddress,
  type EngineEnv,
} from '../../src/pool/engine-host.js';
import { UserError } from '../../src/util/user-error.js';

// The engine's address, read from the docker CLI's variables. `home` is a temporary folder: no
// ~/.docker of the machine's own is read.
describe('engineAddress', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'faas-engine-host-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it.each<[string, EngineEnv, unknown]>([
    ['no DOCKER_HOST: the local socket', {}, { socketPath: DEFAULT_SOCKET }],
    ['a blank DOCKER_HOST: the local socket', { DOCKER_HOST: ' ' }, { socketPath: DEFAULT_SOCKET }],
    [
      'unix:// with a path',
      { DOCKER_HOST: 'unix:///run/e2/docker.sock' },
      { socketPath: '/run/e2/docker.sock' },
    ],
    ['unix:// without a path: the local socket', { DOCKER_HOST: 'unix://' }, { socketPath: DEFAULT_SOCKET }],
    ['tcp://', { DOCKER_HOST: 'tcp://127.0.0.1:2375' }, { host: '127.0.0.1', port: 2375, basePath: '' }],
    [
      'host:port, as the CLI takes it',
      { DOCKER_HOST: '127.0.0.1:2380' },
      { host: '127.0.0.1', port: 2380, basePath: '' },
    ],
    [
      'tcp:// without a port: 2375',
      { DOCKER_HOST: 'tcp://localhost' },
      { host: 'localhost', port: 2375, basePath: '' },
    ],
    ['an IPv6 address', { DOCKER_HOST: 'tcp://[::1]:2375' }, { host: '::1', port: 2375, basePath: '' }],
    [
      'a base path (an engine behind a proxy)',
      { DOCKER_HOST: 'tcp://127.0.0.1:8080/docker/' },
      { host: '127.0.0.1', port: 8080, basePath: '/docker' },
    ],
    [
      'DOCKER_TLS_VERIFY empty: no TLS',
      { DOCKER_HOST: 'tcp://127.0.0.1:2375', DOCKER_TLS_VERIFY: '' },
      { host: '127.0.0.1', port: 2375, basePath: '' },
    ],
  ])('%s', (_, env, expected) => {
    expect(engineAddress(env, home)).toEqual(expected);
  });

  it("uses Docker Desktop's socket in the home folder when there is one", async () => {
    await mkdir(join(home, '.docker', 'run'), { recursive: true });
    await writeFile(join(home, '.docker', 'run', 'docker.sock'), '');
    expect(engineAddress({}, home)).toEqual({ socketPath: join(home, '.docker', 'run', 'docker.sock') });
  });

  it('TLS: reads ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH; the port defaults to 2376', async () => {
    const certs = join(home, 'certs');
    await mkdir(certs);
    await writeFile(join(certs, 'ca.pem'), 'CA');
    await writeFile(join(certs, 'cert.pem'), 'CERT');
    await writeFile(join(certs, 'key.pem'), 'KEY');
    const address = engineAddress(
      { DOCKER_HOST: 'tcp://127.0.0.1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs },
      home,
    );
    expect(address).toEqual({
      host: '127.0.0.1',
      port: 2376,
      basePath: '',
      tls: { ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY') },
    });
    expect(describeAddress(address)).toBe('https://127.0.0.1:2376');
    // DOCKER_CERT_PATH alone means TLS too; the client certificate is optional.
    await rm(join(certs, 'cert.pem'));
    await rm(join(certs, 'key.pem'));
    expect(engineAddress({ DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_CERT_PATH: certs }, home)).toEqual({
      host: '127.0.0.1',
      port: 2376,
      basePath: '',
      tls: { ca: Buffer.from('CA') },
    });
  });

  it('TLS without DOCKER_CERT_PATH reads ~/.docker', async () => {
    await mkdir(join(home, '.docker'));
    await writeFile(join(home, '.docker', 'ca.pem'), 'CA');
    expect(
      engineAddress({ DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1' }, home),
    ).toMatchObject({
      tls: { ca: Buffer.from('CA') },
    });
  });

  it('TLS without ca.pem: a user error naming the file', () => {
    const err = catchError(() =>
      engineAddress(
        { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: home },
        home,
      ),
    );
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(
      `cannot read ${join(home, 'ca.pem')} for TLS to the Docker engine (ENOENT): put ca.pem (and cert.pem, key.pem) in DOCKER_CERT_PATH, or unset DOCKER_TLS_VERIFY`,
    );
  });

  it('TLS with a client certificate but no key: a user error', async () => {
    await writeFile(join(home, 'ca.pem'), 'CA');
    await writeFile(join(home, 'cert.pem'), 'CERT');
    const err = catchError(() =>
      engineAddress({ DOCKER_HOST: 'tcp://h:2376', DOCKER_CERT_PATH: home }, home),
    );
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/key\.pem is missing beside cert\.pem/);
  });

  it('ssh://: a user error that says to forward the socket and point DOCKER_HOST at it', () => {
    const err = catchError(() => engineAddress({ DOCKER_HOST: 'ssh://ops@build-1' }, home));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(
      'DOCKER_HOST=ssh://ops@build-1: the platform does not speak to an engine over ssh: forward the ' +
        "engine's socket (ssh -nNT -L /tmp/docker.sock:/var/run/docker.sock ops@build-1) and set " +
        'DOCKER_HOST=unix:///tmp/docker.sock',
    );
  });

  it.each([
    ['npipe:////./pipe/docker_engine', /npipe:\/\/ is not an engine address/],
    ['http://127.0.0.1:2375', /http:\/\/ is not an engine address/],
    ['tcp://[bad', /is not an address/],
  ])('%s: a user error', (host, message) => {
    const err = catchError(() => engineAddress({ DOCKER_HOST: host }, home));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/set it to unix:\/\/\/path\/to\/docker\.sock or tcp:\/\/host:port$/);
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('no error thrown');
}
