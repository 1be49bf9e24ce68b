/**
 * The wire contract between the worker (host) and the runtime inside a function container.
 *
 * The host listens on a unix socket in a directory mounted into the container; the runtime
 * connects to it. The first connection is the control channel: one JSON object per line, both
 * ways. Large objects move over extra connections (streams): the runtime opens one, writes one
 * JSON header line, then raw bytes flow (host → runtime for a get, runtime → host for a put).
 *
 * This file is imported by both sides and imports nothing.
 */

/** Where the host's socket appears inside the container. */
export const CONTAINER_SOCKET_DIR = '/run/faas';
export const SOCKET_NAME = 'host.sock';
/** Where the runtime writes the function's code inside the container (on its tmpfs). */
export const CONTAINER_CODE_DIR = '/tmp/.faas-task';
/**
 * LAMBDA_TASK_ROOT: a read-only bind mount of a per-container host folder (without noexec, so
 * native extensions load). For runtimes whose code is a folder, the host fills it before `init`.
 */
export const CONTAINER_TASK_DIR = '/var/task';

/** Longest control line either side accepts; a longer one is a protocol violation. */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;
/**
 * Most log bytes kept per invocation. The runtime stops sending past it (one marker line, then
 * nothing), so a log flood costs neither the container's memory nor the host's CPU; the host
 * enforces it again against a runtime that does not.
 */
export const MAX_LOG_BYTES = 256 * 1024;
/**
 * Most log lines kept per invocation. The runtime does not count lines, so the host cuts past
 * it (a truncation, not a protocol violation): a flood of empty lines costs no host memory.
 */
export const MAX_LOG_LINES = 10_000;
/** The last log line of an invocation whose logs were cut. */
export const LOGS_TRUNCATED = `[logs truncated at ${MAX_LOG_BYTES} bytes]`;
/** Largest handler result (JSON) the runtime sends; larger results fail with `result-too-large`. */
export const MAX_RESULT_BYTES = 6 * 1024 * 1024;

/** Why an invocation failed; the worker decides retries from this. */
export type ErrorKind =
  | 'handler' // the handler threw or rejected
  | 'permanent' // the handler threw an error marked permanent: no further attempts
  | 'permission' // a storage call outside the function's grants escaped the handler
  | 'timeout' // the invocation ran past the function's timeout; the container was killed
  | 'exit' // the runtime process exited (process.exit, uncaught exception) mid-invocation
  | 'oom' // the container hit its memory limit
  | 'container-lost' // the container died for another reason (killed from outside)
  | 'init' // the handler could not be loaded
  | 'result-too-large' // the result exceeded MAX_RESULT_BYTES
  | 'no-capacity' // no container could be started for the function
  | 'protocol'; // the runtime sent a malformed or out-of-order message; the container was replaced

export interface WireError {
  kind: ErrorKind;
  name?: string;
  message: string;
  stack?: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

// host → runtime
export interface InitMessage {
  t: 'init';
  functionName: string;
  /** The manifest's handler string (`csv-summary/index.handler`): the function's `_HANDLER`. */
  handler: string;
  /** The deployed version running (its number), or `$LATEST` for a function run without a deploy. */
  version: string;
  /** The platform's S3 region: the function's AWS_REGION and AWS_DEFAULT_REGION. */
  region: string;
  /**
   * The function's bundled code (one ES module), when it is not in `taskDir`: the runtime writes
   * it to its own tmpfs. Empty when the host filled the task folder. Either way a generic
   * pre-warmed container becomes any function's without being recreated, and no container ever
   * sees another function's files.
   */
  code: string;
  /**
   * The folder (CONTAINER_TASK_DIR) the host has filled with the function's code: for python3.11
   * its code and dependencies; for node20 the bundle, at `entry`. `code` is empty then.
   */
  taskDir?: string;
  /** node20: the bundle's path in `taskDir` (the handler's module path, `csv-summary/index.mjs`). */
  entry?: string;
  exportName: string;
  env: Record<string, string>;
  memoryMb: number;
}
export interface InvokeMessage {
  t: 'invoke';
  id: string;
  event: unknown;
  /** Wall-clock epoch milliseconds after which the host kills the invocation. */
  deadline: number;
  attempt: number;
}
export interface StorageReplyMessage {
  t: 'storage-reply';
  reqId: number;
  ok: boolean;
  value?: unknown;
  error?: WireError;
}
export type HostMessage = InitMessage | InvokeMessage | StorageReplyMessage;

// runtime → host
export interface HelloMessage {
  t: 'hello';
  pid: number;
  node: string;
}
export interface ReadyMessage {
  t: 'ready';
}
export interface InitErrorMessage {
  t: 'init-error';
  error: WireError;
}
export interface LogMessage {
  t: 'log';
  id: string;
  level: LogLevel;
  msg: string;
  ts: number;
}
export interface ResultMessage {
  t: 'result';
  id: string;
  ok: boolean;
  value?: unknown;
  error?: WireError;
}
/** Small storage calls go over the control channel; object bodies always use a stream connection. */
export type StorageOp =
  { op: 'list'; bucket: string; prefix: string } | { op: 'delete'; bucket: string; key: string };
export type StorageRequestMessage = { t: 'storage'; reqId: number; id: string } & StorageOp;
/** One entry of a `list` reply. */
export interface ObjectInfo {
  key: string;
  size: number;
  etag?: string;
  lastModified?: string;
}
export interface CrashMessage {
  t: 'crash';
  error: WireError;
}
export type RuntimeMessage =
  | HelloMessage
  | ReadyMessage
  | InitErrorMessage
  | LogMessage
  | ResultMessage
  | StorageRequestMessage
  | CrashMessage;

/** First line of a stream connection. The host answers a get with one JSON line, then the bytes. */
export interface StreamHeader {
  t: 'stream';
  id: string;
  op: 'get' | 'put';
  bucket: string;
  key: string;
  contentType?: string;
}
/** The host's answer on a stream connection: for a get before the bytes, for a put after them. */
export interface StreamReply {
  ok: boolean;
  error?: WireError;
  contentType?: string;
  contentLength?: number;
  etag?: string;
}

/**
 * The port of the S3 endpoint the runtime serves on the container's own loopback. Not 9000: a
 * function must not mistake it for the platform's store, and tests check 9000 stays closed.
 */
export const S3_ENDPOINT_PORT = 4566;
/** Longest S3 header line (method, path, query, headers) the host accepts. */
export const MAX_S3_HEADER_BYTES = 64 * 1024;

/**
 * First line of a stream connection that carries one S3 request from the in-container endpoint;
 * the request body's bytes follow until the runtime ends its side. The host answers with one
 * {@link S3StreamReply} line, then the response body's bytes until it ends the connection.
 */
export interface S3StreamHeader {
  t: 's3';
  method: string;
  /** The request's path as the client sent it: percent-encoded, starting with `/`. */
  path: string;
  /** The raw query string, without the `?` (empty when there is none). */
  query: string;
  /** Request headers, names lower-case; repeated headers joined with `, `. */
  headers: Record<string, string>;
}
/** The host's answer to an S3 request: S3's status and response headers. */
export interface S3StreamReply {
  status: number;
  headers: Record<string, string>;
}
