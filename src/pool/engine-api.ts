/**
 * The small part of the Docker Engine API the platform uses, over node:http (or node:https for
 * an engine behind TLS): ping, containers (create, start, update, kill, remove, inspect, logs,
 * wait, list) and images (inspect, list). Paths carry no API version: the engine answers in its
 * own, as the docker CLI's first request does, and every field used here means the same from
 * API 1.25 to today's (a fixed version would be refused by engines whose minimum moved past it).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { describeAddress, type EngineAddress } from './engine-host.js';
import { LogTail } from './engine-logs.js';
import {
  parseContainerList,
  parseContainerState,
  parseImageList,
  parseJson,
  type ContainerState,
  type ContainerSummary,
  type ImageSummary,
} from './engine-parse.js';

/** Largest JSON answer read (a list of every container or image on a busy engine fits). */
const MAX_JSON_BYTES = 16 * 1024 * 1024;
/** Largest error answer read: its message is all that is kept. */
const MAX_ERROR_BYTES = 64 * 1024;
/** Longest engine message kept in an error. */
const MAX_MESSAGE_CHARS = 1000;

/** The engine answered with an error status; `status` says which (404: no such object, 409: conflict). */
export class EngineError extends Error {
  override name = 'EngineError';

  constructor(
    /** The engine's own message. */
    readonly engineMessage: string,
    /** The HTTP status the engine answered. */
    readonly status: number,
    /** The request, as `METHOD /path`. */
    readonly request: string,
  ) {
    super(`${engineMessage} (the Docker engine answered ${status})`);
  }
}

export interface EngineApiOptions {
  /**
   * The HTTP agent: its sockets are reused across requests.
   * @defaultValue a keep-alive agent of this client's own, closed by close()
   */
  agent?: HttpAgent;
}

interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  signal?: AbortSignal;
}

/** Docker's filters query parameter for containers or images carrying all these labels. */
function labelFilter(labels: Record<string, string>): string {
  return JSON.stringify({ label: Object.entries(labels).map(([k, v]) => (v === '' ? k : `${k}=${v}`)) });
}

/**
 * A Docker Engine API client: one keep-alive agent, no timeouts of its own (callers race theirs
 * or pass a signal), errors with the engine's message and status, answers read up to a cap and
 * checked before use.
 * @example const engine = new EngineApi(engineAddress(config)); await engine.ping();
 */
export class EngineApi {
  private readonly agent: HttpAgent;
  private readonly ownAgent: boolean;

  constructor(
    readonly address: EngineAddress,
    options: EngineApiOptions = {},
  ) {
    this.ownAgent = options.agent === undefined;
    const tls = 'tls' in address ? address.tls : undefined;
    // As Node's global agent: sockets kept between requests, the most recent reused first.
    const agentOptions = { keepAlive: true, scheduling: 'lifo' as const, timeout: 5000 };
    this.agent =
      options.agent ??
      (tls
        ? new HttpsAgent({ ...agentOptions, ca: tls.ca, cert: tls.cert, key: tls.key })
        : new HttpAgent(agentOptions));
  }

  /** Where the engine listens, for messages. */
  get where(): string {
    return describeAddress(this.address);
  }

  /** Closes the sockets this client keeps (not those of an agent it was given). */
  close(): void {
    if (this.ownAgent) this.agent.destroy();
  }

  /** Resolves when the engine answers. */
  async ping(signal?: AbortSignal): Promise<void> {
    await this.call('GET', '/_ping', { signal });
  }

  /** Creates a container; its id. */
  async createContainer(name: string, body: Record<string, unknown>): Promise<string> {
    const created = await this.json('POST', '/containers/create', { query: { name }, body });
    const id = (created as { Id?: unknown } | undefined)?.Id;
    if (typeof id !== 'string' || !/^[0-9a-f]{12,64}$/.test(id)) {
      throw new Error('the Docker engine answered a container create without a container id');
    }
    return id;
  }

  async startContainer(id: string): Promise<void> {
    await this.call('POST', `/containers/${enc(id)}/start`);
  }

  /** Changes a container's resources (Memory, MemorySwap, NanoCpus, PidsLimit...). */
  async updateContainer(id: string, resources: Record<string, unknown>): Promise<void> {
    await this.call('POST', `/containers/${enc(id)}/update`, { body: resources });
  }

  async killContainer(id: string, signal = 'SIGKILL'): Promise<void> {
    await this.call('POST', `/containers/${enc(id)}/kill`, { query: { signal } });
  }

  /** Removes a container, with `force` even a running one, and its anonymous volumes. */
  async removeContainer(id: string, options: { force?: boolean } = {}): Promise<void> {
    await this.call('DELETE', `/containers/${enc(id)}`, { query: { force: options.force, v: true } });
  }

  /** Whether the container runs, how it exited. */
  async inspectContainer(id: string): Promise<ContainerState> {
    return parseContainerState(await this.json('GET', `/containers/${enc(id)}/json`));
  }

  /**
   * The last `tail` lines of a container's stdout and stderr (created without a TTY: Docker's
   * multiplexed frames), at most `maxBytes` of their end.
   */
  async containerLogs(id: string, tail: number, maxBytes = 64 * 1024): Promise<string> {
    const res = await this.send('GET', `/containers/${enc(id)}/logs`, {
      query: { stdout: true, stderr: true, tail, follow: false },
    });
    const logs = new LogTail(maxBytes);
    for await (const chunk of res) logs.push(chunk as Buffer);
    return logs.text();
  }

  /** Resolves once the container is not running; a signal gives up waiting (and frees the socket). */
  async waitContainer(id: string, signal?: AbortSignal): Promise<void> {
    await this.call('POST', `/containers/${enc(id)}/wait`, { signal });
  }

  /** Containers (running or not) carrying all these labels (`''` as a value: the label, any value). */
  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    return parseContainerList(
      await this.json('GET', '/containers/json', { query: { all: true, filters: labelFilter(labels) } }),
    );
  }

  /** Images carrying all these labels. */
  async listImages(labels: Record<string, string>): Promise<ImageSummary[]> {
    return parseImageList(
      await this.json('GET', '/images/json', { query: { filters: labelFilter(labels) } }),
    );
  }

  /** Resolves when the image exists; an EngineError with status 404 when it does not. */
  async inspectImage(name: string): Promise<void> {
    await this.call('GET', `/images/${encodeURIComponent(name).replace(/%2F/g, '/')}/json`);
  }

  /** A request whose answer's body is not needed. */
  private async call(method: string, path: string, options: RequestOptions = {}): Promise<void> {
    const res = await this.send(method, path, options);
    await readCapped(res, MAX_JSON_BYTES, `${method} ${path}`);
  }

  /** A request answered with JSON, parsed (a malformed answer is an error, never a crash). */
  private async json(method: string, path: string, options: RequestOptions = {}): Promise<unknown> {
    const res = await this.send(method, path, options);
    return parseJson(await readCapped(res, MAX_JSON_BYTES, `${method} ${path}`), `${method} ${path}`);
  }

  /** Sends a request; the response once its status is a success, else an EngineError. */
  private send(method: string, path: string, options: RequestOptions): Promise<IncomingMessage> {
    const address = this.address;
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) query.set(k, String(v));
    const search = query.size > 0 ? `?${query.toString()}` : '';
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = body.length;
    }
    const common = { method, headers, agent: this.agent, signal: options.signal };
    return new Promise((resolve, reject) => {
      const onResponse = (res: IncomingMessage): void => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(res);
        // 304: started or stopped already; nothing the platform's calls treat as a failure.
        if (status === 304) return resolve(res);
        readCapped(res, MAX_ERROR_BYTES, `${method} ${path}`, true).then(
          (raw) => reject(new EngineError(engineMessage(raw, status), status, `${method} ${path}`)),
          reject,
        );
      };
      const req =
        'socketPath' in address
          ? httpRequest({ ...common, socketPath: address.socketPath, path: path + search }, onResponse)
          : (address.tls ? httpsRequest : httpRequest)(
              { ...common, host: address.host, port: address.port, path: address.basePath + path + search },
              onResponse,
            );
      req.on('error', reject);
      req.end(body);
    });
  }
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

/**
 * Reads a whole answer, at most `max` bytes; more is an error (`truncate`: keep the first `max`
 * bytes instead, for an error's message).
 */
function readCapped(res: IncomingMessage, max: number, request: string, truncate = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        if (truncate) {
          chunks.push(chunk.subarray(0, chunk.length - (size - max)));
          resolve(Buffer.concat(chunks));
        } else {
          reject(new Error(`the Docker engine's answer to ${request} is larger than ${max} bytes`));
        }
        res.destroy();
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(new Error(`the Docker engine's answer to ${request} was cut off`));
    });
  });
}

/** The engine's message from an error answer (`{"message": ...}`), made safe to log: one line, bounded. */
function engineMessage(raw: Buffer, status: number): string {
  let message: unknown;
  try {
    message = (JSON.parse(raw.toString('utf8')) as { message?: unknown } | null)?.message;
  } catch {
    message = raw.toString('utf8');
  }
  const text = typeof message === 'string' ? message : '';
  const line = text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
  if (line === '') return `status ${status}`;
  return line.length > MAX_MESSAGE_CHARS ? `${line.slice(0, MAX_MESSAGE_CHARS)}…` : line;
}
