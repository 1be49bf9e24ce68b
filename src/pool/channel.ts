import { EventEmitter } from 'node:events';
import { chmod, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StorageGrant } from '../manifest/types.js';
import { readFirstLine, readLines } from '../runtime/lines.js';
import {
  MAX_LINE_BYTES,
  type HostMessage,
  type InitMessage,
  type InvokeMessage,
  type LogLevel,
  type ResultMessage,
  type RuntimeMessage,
  type S3StreamHeader,
  type StorageRequestMessage,
  type StreamHeader,
  type StreamReply,
  type WireError,
} from '../runtime/protocol.js';
import type { StorageGateway } from '../storage/gateway.js';
import { allowed, listScope, unsafeKey, type Access } from '../storage/grants.js';
import type { S3Proxy } from '../storage/s3-proxy/proxy.js';

export type LogSink = (level: LogLevel, msg: string, ts: number) => void;

interface InFlight {
  resolve: (r: ResultMessage) => void;
  onLog: LogSink;
}

/** Most keys one `listObjects` call returns. */
const LIST_LIMIT = 10_000;

function denied(op: string, bucket: string, key: string): WireError {
  return {
    kind: 'permission',
    name: 'PermissionError',
    message: `${op} ${bucket}/${key} is not allowed: grant it under storage.${op === 'get' || op === 'list' ? 'read' : 'write'} in the manifest`,
  };
}

function storageError(err: unknown): WireError {
  const e = err as { name?: string; message?: string };
  return { kind: 'handler', name: e.name ?? 'StorageError', message: e.message ?? String(err) };
}

/**
 * The host's end of one container's runtime socket. The control connection carries init,
 * invocations, logs and results; each object body moves on a connection of its own.
 * Emits 'lost' once when the control connection closes (the runtime exited or was killed).
 */
export class RuntimeChannel extends EventEmitter {
  private control?: Socket;
  private readonly inflight = new Map<string, InFlight>();
  private grants: { read: StorageGrant[]; write: StorageGrant[] } = { read: [], write: [] };
  /** Set once the container is given a function: S3 requests before that are refused. */
  private assigned = false;
  private helloWaiter?: { resolve: () => void; reject: (e: Error) => void };
  private initWaiter?: { resolve: () => void; reject: (e: WireError) => void };
  private lost = false;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly socketPath: string,
    private readonly storage: StorageGateway,
    private readonly s3?: S3Proxy,
  ) {
    super();
  }

  /**
   * Listens on `socketPath` (world-connectable: the container runs as another user). Without
   * `s3`, the container's S3 endpoint gets no answer.
   */
  static async listen(socketPath: string, storage: StorageGateway, s3?: S3Proxy): Promise<RuntimeChannel> {
    await rm(socketPath, { force: true });
    const server = createServer({ allowHalfOpen: true });
    const channel = new RuntimeChannel(server, socketPath, storage, s3);
    server.on('connection', (s) => channel.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    await chmod(socketPath, 0o666);
    return channel;
  }

  /** Resolves when the runtime has connected and said hello. */
  hello(timeoutMs: number): Promise<void> {
    if (this.control) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`runtime did not connect within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.helloWaiter = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  }

  /** Loads the function's code in the runtime; rejects with the runtime's error when it cannot. */
  init(msg: Omit<InitMessage, 't'>, grants: { read: StorageGrant[]; write: StorageGrant[] }): Promise<void> {
    this.grants = grants;
    this.assigned = true;
    return new Promise((resolve, reject) => {
      this.initWaiter = { resolve, reject };
      this.send({ t: 'init', ...msg });
    });
  }

  /** Sends an invocation; resolves with its result, or a `container-lost` failure if the runtime dies. */
  invoke(msg: Omit<InvokeMessage, 't'>, onLog: LogSink): Promise<ResultMessage> {
    if (this.lost) {
      return Promise.resolve({
        t: 'result',
        id: msg.id,
        ok: false,
        error: { kind: 'container-lost', message: 'container is gone' },
      });
    }
    return new Promise((resolve) => {
      this.inflight.set(msg.id, { resolve, onLog });
      this.send({ t: 'invoke', ...msg });
    });
  }

  /** Settles an in-flight invocation from outside (timeout), so a late result is ignored. */
  abandon(id: string, error: WireError): void {
    const f = this.inflight.get(id);
    if (!f) return;
    this.inflight.delete(id);
    f.resolve({ t: 'result', id, ok: false, error });
  }

  get inFlightCount(): number {
    return this.inflight.size;
  }

  async close(): Promise<void> {
    // server.close() waits for every open connection: end them all, streams included.
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }

  private send(msg: HostMessage): void {
    this.control?.write(JSON.stringify(msg) + '\n');
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    readFirstLine(socket, MAX_LINE_BYTES)
      .then((line) => {
        const msg = JSON.parse(line) as RuntimeMessage | StreamHeader | S3StreamHeader;
        if (msg.t === 'stream') return this.serveStream(socket, msg);
        // One S3 request; the proxy validates the header itself (see s3-proxy/header.ts).
        if (msg.t === 's3') {
          if (!this.s3) return void socket.destroy();
          return this.s3.serve(socket, msg, this.assigned ? this.grants : undefined);
        }
        if (msg.t !== 'hello' || this.control) return void socket.destroy();
        this.control = socket;
        socket.setNoDelay(true);
        socket.on('close', () => this.onLost());
        // The server allows half-open sockets (for uploads); the control channel ends when the runtime does.
        socket.on('end', () => socket.destroy());
        readLines(
          socket,
          MAX_LINE_BYTES,
          (l) => this.onMessage(JSON.parse(l) as RuntimeMessage),
          () => socket.destroy(),
        );
        socket.resume();
        this.helloWaiter?.resolve();
      })
      .catch(() => socket.destroy());
  }

  private onLost(): void {
    if (this.lost) return;
    this.lost = true;
    this.initWaiter?.reject({ kind: 'exit', message: 'runtime exited while loading the function' });
    for (const [id, f] of this.inflight) {
      f.resolve({
        t: 'result',
        id,
        ok: false,
        error: { kind: 'container-lost', message: 'the container stopped mid-invocation' },
      });
    }
    this.inflight.clear();
    this.emit('lost');
  }

  private onMessage(msg: RuntimeMessage): void {
    switch (msg.t) {
      case 'ready':
        this.initWaiter?.resolve();
        this.initWaiter = undefined;
        break;
      case 'init-error':
        this.initWaiter?.reject(msg.error);
        this.initWaiter = undefined;
        break;
      case 'log':
        this.inflight.get(msg.id)?.onLog(msg.level, msg.msg, msg.ts);
        break;
      case 'result': {
        const f = this.inflight.get(msg.id);
        if (!f) return;
        this.inflight.delete(msg.id);
        f.resolve(msg);
        break;
      }
      case 'storage':
        void this.serveStorage(msg);
        break;
      case 'crash':
        for (const [id, f] of this.inflight) {
          f.onLog('error', `runtime crashed: ${msg.error.message}`, Date.now());
          f.resolve({ t: 'result', id, ok: false, error: msg.error });
        }
        this.inflight.clear();
        break;
      case 'hello':
        break;
    }
  }

  private check(access: Access, bucket: string, key: string, listing = false): WireError | undefined {
    // A listing may name no prefix at all; one that it names follows the rules of keys.
    const bad = listing && key === '' ? undefined : unsafeKey(key);
    if (bad)
      return { kind: 'permission', name: 'PermissionError', message: `${bad}: ${JSON.stringify(key)}` };
    const grants = access === 'read' ? this.grants.read : this.grants.write;
    if (listing ? listScope(grants, bucket, key).length === 0 : !allowed(grants, bucket, key)) {
      return denied(access === 'read' ? (listing ? 'list' : 'get') : 'put', bucket, key);
    }
    return undefined;
  }

  private async serveStorage(msg: StorageRequestMessage): Promise<void> {
    const reply = (ok: boolean, value?: unknown, error?: WireError) =>
      this.send({ t: 'storage-reply', reqId: msg.reqId, ok, value, error });
    if (!this.inflight.has(msg.id))
      return reply(false, undefined, { kind: 'permission', message: 'unknown invocation' });
    try {
      if (msg.op === 'list') {
        const denial = this.check('read', msg.bucket, msg.prefix, true);
        if (denial) return reply(false, undefined, denial);
        const scopes = listScope(this.grants.read, msg.bucket, msg.prefix);
        const lists = await Promise.all(scopes.map((p) => this.storage.list(msg.bucket, p, LIST_LIMIT)));
        return reply(true, lists.flat().slice(0, LIST_LIMIT));
      }
      const denial = this.check('write', msg.bucket, msg.key);
      if (denial) return reply(false, undefined, denial);
      await this.storage.delete(msg.bucket, msg.key);
      return reply(true, null);
    } catch (err) {
      return reply(false, undefined, storageError(err));
    }
  }

  private async serveStream(socket: Socket, h: StreamHeader): Promise<void> {
    const answer = (r: StreamReply) => socket.write(JSON.stringify(r) + '\n');
    const denial = this.inflight.has(h.id)
      ? this.check(h.op === 'get' ? 'read' : 'write', h.bucket, h.key)
      : ({ kind: 'permission', message: 'unknown invocation' } as WireError);
    if (denial) {
      answer({ ok: false, error: denial });
      socket.end();
      return;
    }
    try {
      if (h.op === 'get') {
        const obj = await this.storage.get(h.bucket, h.key);
        answer({ ok: true, contentType: obj.contentType, contentLength: obj.contentLength });
        await pipeline(obj.body, socket);
      } else {
        // The upload consumes a separate stream: reading the socket to its end directly would
        // destroy it before the reply is written.
        const body = new PassThrough();
        socket.pipe(body);
        const res = await this.storage.put(h.bucket, h.key, body, h.contentType);
        answer({ ok: true, etag: res.etag });
        socket.end();
      }
    } catch (err) {
      if (!socket.destroyed) {
        answer({ ok: false, error: storageError(err) });
        socket.end();
      }
    }
  }
}
