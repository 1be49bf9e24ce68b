import { EventEmitter } from 'node:events';
import { chmod, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { coalesceWrites, holdTurn } from '../runtime/coalesce.js';
import { LineTooLongError, readFirstLine, readLines } from '../runtime/lines.js';
import {
  LOGS_TRUNCATED,
  MAX_LINE_BYTES,
  MAX_LOG_BYTES,
  type CrashMessage,
  type HostMessage,
  type InitMessage,
  type InvokeMessage,
  type LogLevel,
  type LogMessage,
  type ResultMessage,
  type RuntimeMessage,
  type StorageOp,
  type StorageRequestMessage,
  type WireError,
} from '../runtime/protocol.js';
import type { StorageGateway } from '../storage/gateway.js';
import { Ledger } from './ledger.js';
import { parseRuntimeMessage, parseStreamHeader, printable } from './messages.js';
import { refuse, StorageServer, type Grants } from './storage-server.js';
import { protocolError, type Violation } from './violations.js';
import type { S3Proxy } from '../storage/s3-proxy/proxy.js';

export type LogSink = (level: LogLevel, msg: string, ts: number) => void;

interface InFlight {
  resolve: (r: ResultMessage) => void;
  onLog: LogSink;
  logBytes: number;
}

/** Log bytes one invocation may send: the runtime's budget, then its one truncation marker. */
const LOG_BUDGET = MAX_LOG_BYTES + Buffer.byteLength(LOGS_TRUNCATED);
/** Longest first line of a connection (a hello or a stream header; both are small). */
const MAX_HEADER_BYTES = 64 * 1024;
/** A connection that sends no first line in this time is closed (it holds a host descriptor). */
const HEADER_TIMEOUT_MS = 10_000;
/** Connections one container may hold open at once; past it new ones are closed at once. */
const MAX_CONNECTIONS = 256;

const ENDED: WireError = { kind: 'permission', name: 'PermissionError', message: 'the invocation has ended' };

/**
 * The host's end of one container's runtime socket: transport and dispatch. The control
 * connection carries init, invocations, logs and results; each object body moves on a
 * connection of its own (served by StorageServer). Every line is parsed by messages.ts; one
 * that is malformed or does not fit the conversation is a violation: the channel fails every
 * invocation on it with kind `protocol`, closes its connections, and emits 'violation' once
 * (the pool then removes the container). No handler of container bytes throws.
 * Emits 'lost' once when the control connection closes (the runtime exited or was killed).
 */
export class RuntimeChannel extends EventEmitter {
  private control?: Socket;
  private readonly ledger = new Ledger<InFlight>();
  private readonly storage: StorageServer;
  /** Set once the container is given a function: S3 requests before that are refused. */
  private assigned = false;
  private helloWaiter?: { resolve: () => void; reject: (e: Error) => void };
  private initWaiter?: { resolve: () => void; reject: (e: WireError) => void };
  private lost = false;
  private violation?: Violation;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly socketPath: string,
    gateway: StorageGateway,
    private readonly s3?: S3Proxy,
  ) {
    super();
    this.storage = new StorageServer(gateway);
  }

  /**
   * Listens on `socketPath` (world-connectable: the container runs as another user). Without
   * `s3`, the container's S3 endpoint gets no answer.
   */
  static async listen(socketPath: string, storage: StorageGateway, s3?: S3Proxy): Promise<RuntimeChannel> {
    await rm(socketPath, { force: true });
    const server = createServer({ allowHalfOpen: true });
    const channel = new RuntimeChannel(server, socketPath, storage, s3);
    server.on('connection', (s) => channel.guard(() => channel.accept(s)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    // An accept that fails (out of descriptors) must not become an uncaught 'error'.
    server.on('error', () => undefined);
    await chmod(socketPath, 0o666);
    return channel;
  }

  /** Resolves when the runtime has connected and said hello. */
  hello(timeoutMs: number): Promise<void> {
    if (this.control) return Promise.resolve();
    if (this.violation) return Promise.reject(new Error(protocolError(this.violation).message));
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
  init(msg: Omit<InitMessage, 't'>, grants: Grants): Promise<void> {
    this.storage.grants = grants;
    this.assigned = true;
    if (this.violation) return Promise.reject(protocolError(this.violation));
    return new Promise((resolve, reject) => {
      this.initWaiter = { resolve, reject };
      this.send({ t: 'init', ...msg });
    });
  }

  /** Sends an invocation; resolves with its result, or a failure if the runtime dies or misbehaves. */
  invoke(msg: Omit<InvokeMessage, 't'>, onLog: LogSink): Promise<ResultMessage> {
    const gone: WireError | undefined = this.violation
      ? protocolError(this.violation)
      : this.lost
        ? { kind: 'container-lost', message: 'container is gone' }
        : undefined;
    if (gone) return Promise.resolve({ t: 'result', id: msg.id, ok: false, error: gone });
    return new Promise((resolve) => {
      this.ledger.start(msg.id, { resolve, onLog, logBytes: 0 });
      // A container already running others is woken by their results anyway: this one waits for
      // the turn's end and leaves with whatever else the turn sends it, one wake-up for all. A
      // container with nothing else to do gets it at once.
      if (this.ledger.size > 1 && this.control) holdTurn(this.control);
      this.send({ t: 'invoke', ...msg });
    });
  }

  /** Settles an in-flight invocation from outside (timeout); a late result is then ignored. */
  abandon(id: string, error: WireError): void {
    this.ledger.end(id, 'settled')?.resolve({ t: 'result', id, ok: false, error });
  }

  get inFlightCount(): number {
    return this.ledger.size;
  }

  async close(): Promise<void> {
    // server.close() waits for every open connection: end them all, streams included.
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }

  private send(msg: HostMessage): void {
    if (this.control && !this.control.destroyed) this.control.write(JSON.stringify(msg) + '\n');
  }

  /** Runs a handler of container bytes; whatever it throws ends the container, not the platform. */
  private guard(handle: () => void): void {
    try {
      handle();
    } catch (err) {
      try {
        this.violate({ reason: 'unhandled', detail: printable(String((err as Error)?.message ?? err), 120) });
      } catch {
        // Nothing more to do here: the container is already being failed.
      }
    }
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    if (this.violation || this.sockets.size >= MAX_CONNECTIONS) return void socket.destroy();
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.setTimeout(HEADER_TIMEOUT_MS, () => socket.destroy());
    readFirstLine(socket, MAX_HEADER_BYTES).then(
      (line) => this.guard(() => this.onFirstLine(socket, line)),
      (err: Error) =>
        this.guard(() => {
          // A connection that closes before a full line is the runtime's own business.
          if (err instanceof LineTooLongError)
            this.violate({ reason: 'line-too-long', detail: `a first line past ${MAX_HEADER_BYTES} bytes` });
          socket.destroy();
        }),
    );
  }

  private onFirstLine(socket: Socket, line: string): void {
    if (this.violation) return void socket.destroy();
    socket.setTimeout(0);
    if (!this.control) {
      const first = parseRuntimeMessage(line);
      if (!first.ok) return this.violate(first, line);
      if (first.msg.t !== 'hello')
        return this.violate({ reason: 'out-of-order', detail: `${first.msg.t} before hello` }, line);
      return this.openControl(socket);
    }
    const header = parseStreamHeader(line);
    if (!header.ok) return this.violate(header, line);
    const h = header.msg;
    if (h.t === 's3') {
      // One S3 request from the in-container endpoint, for the function the container serves.
      if (!this.s3) return void socket.destroy();
      this.s3.serve(socket, h, this.assigned ? this.storage.grants : undefined).catch(() => socket.destroy());
      return;
    }
    const standing = this.ledger.standing(h.id);
    if (standing === 'unknown')
      return this.violate({ reason: 'unknown-invocation', detail: `stream for ${printable(h.id)}` }, line);
    // A handler's call left running after its invocation ended: refused, not a violation.
    if (standing !== 'in-flight') return refuse(socket, ENDED);
    // stream() answers its own failures; anything past that must not become an unhandled rejection.
    this.storage.stream(socket, h).catch(() => socket.destroy());
  }

  private openControl(socket: Socket): void {
    this.control = socket;
    socket.setNoDelay(true);
    // Invocations sent to this container in one turn go in one write (it has several slots).
    coalesceWrites(socket);
    socket.on('close', () => this.guard(() => this.onLost()));
    // The server allows half-open sockets (for uploads); the control channel ends when the runtime does.
    socket.on('end', () => socket.destroy());
    readLines(
      socket,
      MAX_LINE_BYTES,
      (line) => this.guard(() => this.onLine(line)),
      () =>
        this.guard(() =>
          this.violate({ reason: 'line-too-long', detail: `a line past ${MAX_LINE_BYTES} bytes` }),
        ),
    );
    socket.resume();
    this.helloWaiter?.resolve();
  }

  private onLost(): void {
    if (this.lost) return;
    this.lost = true;
    this.initWaiter?.reject({ kind: 'exit', message: 'runtime exited while loading the function' });
    this.initWaiter = undefined;
    for (const [id, f] of this.ledger.settleAll()) {
      f.resolve({
        t: 'result',
        id,
        ok: false,
        error: { kind: 'container-lost', message: 'the container stopped mid-invocation' },
      });
    }
    this.emit('lost');
  }

  private onLine(line: string): void {
    if (this.violation) return;
    const parsed = parseRuntimeMessage(line);
    if (!parsed.ok) return this.violate(parsed, line);
    const problem = this.dispatch(parsed.msg);
    if (problem) this.violate(problem, line);
  }

  /** Acts on one well-formed message; returns why it does not fit the conversation, if it does not. */
  private dispatch(msg: RuntimeMessage): Violation | undefined {
    switch (msg.t) {
      case 'hello':
        return { reason: 'out-of-order', detail: 'a second hello' };
      case 'ready':
      case 'init-error': {
        const waiter = this.initWaiter;
        if (!waiter) return { reason: 'out-of-order', detail: `${msg.t} with no init pending` };
        this.initWaiter = undefined;
        if (msg.t === 'ready') waiter.resolve();
        else waiter.reject(msg.error);
        return undefined;
      }
      case 'log':
        return this.onLog(msg);
      case 'result':
        return this.onResult(msg);
      case 'storage':
        return this.onStorage(msg);
      case 'crash':
        return this.onCrash(msg);
    }
  }

  /**
   * Whether a message about `id` is to be served. An id the host gave up on (timeout, crash) is
   * late, not hostile: its message is dropped quietly. One never sent here is a violation.
   */
  private judge(id: string, what: string): { serve: true } | { serve: false; violation?: Violation } {
    const standing = this.ledger.standing(id);
    if (standing === 'in-flight') return { serve: true };
    if (standing === 'settled') return { serve: false };
    const reason = standing === 'unknown' ? 'unknown-invocation' : 'out-of-order';
    return {
      serve: false,
      violation: { reason, detail: `${what} for ${standing} invocation ${printable(id)}` },
    };
  }

  private onLog(msg: LogMessage): Violation | undefined {
    const verdict = this.judge(msg.id, 'log');
    if (!verdict.serve) return verdict.violation;
    const f = this.ledger.get(msg.id) as InFlight;
    f.logBytes += Buffer.byteLength(msg.msg);
    if (f.logBytes > LOG_BUDGET)
      return { reason: 'log-budget', detail: `more than ${LOG_BUDGET} bytes of logs for one invocation` };
    f.onLog(msg.level, msg.msg, msg.ts);
    return undefined;
  }

  private onResult(msg: ResultMessage): Violation | undefined {
    const verdict = this.judge(msg.id, 'result');
    if (!verdict.serve) return verdict.violation;
    this.ledger.end(msg.id, 'finished')?.resolve(msg);
    return undefined;
  }

  private onStorage(msg: StorageRequestMessage): Violation | undefined {
    const reply = (ok: boolean, value?: unknown, error?: WireError) =>
      this.send({ t: 'storage-reply', reqId: msg.reqId, ok, value, error });
    const standing = this.ledger.standing(msg.id);
    if (standing === 'unknown')
      return { reason: 'unknown-invocation', detail: `storage for ${printable(msg.id)}` };
    // A handler's call left running after its invocation ended: refused, not a violation.
    if (standing !== 'in-flight') return void reply(false, undefined, ENDED);
    const op: StorageOp =
      msg.op === 'list'
        ? { op: 'list', bucket: msg.bucket, prefix: msg.prefix }
        : { op: 'delete', bucket: msg.bucket, key: msg.key };
    this.storage
      .request(op)
      .then(
        (value) => reply(true, value),
        (error: WireError) => reply(false, undefined, error),
      )
      .catch(() => undefined);
    return undefined;
  }

  private onCrash(msg: CrashMessage): undefined {
    for (const [id, f] of this.ledger.settleAll()) {
      f.onLog('error', `runtime crashed: ${msg.error.message}`, Date.now());
      f.resolve({ t: 'result', id, ok: false, error: { ...msg.error, kind: 'exit' } });
    }
    return undefined;
  }

  /** Fails everything on this container once; the pool removes it on 'violation'. */
  private violate(v: Violation, raw?: string): void {
    if (this.violation) return;
    this.violation = { reason: v.reason, detail: v.detail };
    const error = protocolError(this.violation);
    this.helloWaiter?.reject(new Error(error.message));
    this.initWaiter?.reject(error);
    this.initWaiter = undefined;
    for (const [id, f] of this.ledger.settleAll()) f.resolve({ t: 'result', id, ok: false, error });
    for (const socket of this.sockets) socket.destroy();
    this.emit('violation', this.violation, raw === undefined ? undefined : printable(raw));
  }
}
