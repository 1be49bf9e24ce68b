/**
 * Where the Docker engine listens, read from the variables the docker CLI reads: `DOCKER_HOST`
 * (`unix:///path` or `tcp://host:port`), `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`.
 */
import { accessSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../util/user-error.js';

/** The engine's socket when `DOCKER_HOST` names none (where dockerd puts it). */
export const DEFAULT_SOCKET = '/var/run/docker.sock';

/** The docker CLI's variables that say where the engine is. */
export interface EngineEnv {
  DOCKER_HOST?: string;
  /** Any non-empty value: TLS, verifying the engine's certificate against `ca.pem`. */
  DOCKER_TLS_VERIFY?: string;
  /** Folder of ca.pem, cert.pem and key.pem (default ~/.docker); set alone, it also means TLS. */
  DOCKER_CERT_PATH?: string;
}

/** TLS material for an engine at a TCP address. */
export interface EngineTls {
  ca: Buffer;
  /** The client's certificate and key, when the folder holds them (engines with --tlsverify ask). */
  cert?: Buffer;
  key?: Buffer;
}

/** A unix socket, or a TCP address spoken to over HTTP or HTTPS. */
export type EngineAddress =
  { socketPath: string } | { host: string; port: number; basePath: string; tls?: EngineTls };

/** How the engine's address reads in messages. */
export function describeAddress(address: EngineAddress): string {
  if ('socketPath' in address) return `unix://${address.socketPath}`;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${address.tls ? 'https' : 'tcp'}://${host}:${address.port}${address.basePath}`;
}

/**
 * The engine's address as the docker CLI reads it: no `DOCKER_HOST` means the local socket
 * (`~/.docker/run/docker.sock` when Docker Desktop made one, else /var/run/docker.sock); a TCP
 * address without a port means 2375, or 2376 with TLS.
 * @throws UserError for an address that cannot be used (ssh://, a missing certificate), naming the fix
 * @example const address = engineAddress(config); // DOCKER_HOST=tcp://127.0.0.1:2375 → { host, port: 2375 }
 */
export function engineAddress(env: EngineEnv, home = homedir()): EngineAddress {
  const raw = env.DOCKER_HOST?.trim() ?? '';
  if (raw === '') return { socketPath: defaultSocket(home) };
  if (raw.startsWith('unix://')) return { socketPath: raw.slice('unix://'.length) || defaultSocket(home) };
  if (raw.startsWith('ssh://')) {
    throw new UserError(
      `DOCKER_HOST=${raw}: the platform does not speak to an engine over ssh`,
      `forward the engine's socket (ssh -nNT -L /tmp/docker.sock:/var/run/docker.sock ${raw.slice('ssh://'.length)}) and set DOCKER_HOST=unix:///tmp/docker.sock`,
    );
  }
  // The docker CLI takes `host:port` as tcp://host:port.
  const text = raw.includes('://') ? raw : `tcp://${raw}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserError(
      `DOCKER_HOST=${raw} is not an address`,
      'set it to unix:///path/to/docker.sock or tcp://host:port',
    );
  }
  if (url.protocol !== 'tcp:') {
    throw new UserError(
      `DOCKER_HOST=${raw}: ${url.protocol.replace(/:$/, '')}:// is not an engine address this platform speaks`,
      'set it to unix:///path/to/docker.sock or tcp://host:port',
    );
  }
  const useTls = nonEmpty(env.DOCKER_TLS_VERIFY) || nonEmpty(env.DOCKER_CERT_PATH);
  const tls = useTls
    ? readTls(nonEmpty(env.DOCKER_CERT_PATH) ? env.DOCKER_CERT_PATH : join(home, '.docker'))
    : undefined;
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : tls ? 2376 : 2375,
    basePath: url.pathname.replace(/\/+$/, ''),
    ...(tls && { tls }),
  };
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

function defaultSocket(home: string): string {
  const desktop = join(home, '.docker', 'run', 'docker.sock');
  try {
    accessSync(desktop);
    return desktop;
  } catch {
    return DEFAULT_SOCKET;
  }
}

function readTls(dir: string): EngineTls {
  const read = (name: string, required: boolean): Buffer | undefined => {
    try {
      return readFileSync(join(dir, name));
    } catch (err) {
      if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new UserError(
        `cannot read ${join(dir, name)} for TLS to the Docker engine (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        'put ca.pem (and cert.pem, key.pem) in DOCKER_CERT_PATH, or unset DOCKER_TLS_VERIFY',
      );
    }
  };
  const ca = read('ca.pem', true) as Buffer;
  const cert = read('cert.pem', false);
  const key = read('key.pem', false);
  if ((cert === undefined) !== (key === undefined)) {
    throw new UserError(
      `${join(dir, cert ? 'key.pem' : 'cert.pem')} is missing beside ${cert ? 'cert.pem' : 'key.pem'}`,
      'put both of the client certificate and its key in DOCKER_CERT_PATH',
    );
  }
  return { ca, ...(cert && key && { cert, key }) };
}
