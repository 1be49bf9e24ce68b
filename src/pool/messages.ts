/**
 * Everything a runtime sends the host, parsed and checked in this one place. A container runs
 * code we do not trust, so its bytes are input like any request from the internet: each line
 * is parsed here into a typed message, or refused with a reason. The checks here are those of
 * one line alone; whether a message fits the conversation (an id in flight, an init pending)
 * is the channel's to judge.
 */
import { z } from 'zod';
import {
  MAX_LOG_BYTES,
  MAX_RESULT_BYTES,
  type ErrorKind,
  type RuntimeMessage,
  type S3StreamHeader,
  type StreamHeader,
} from '../runtime/protocol.js';
import { s3StreamHeaderSchema } from '../storage/s3-proxy/header.js';
import type { ViolationReason } from './violations.js';

/** Longest invocation id accepted (the host's own are `<function>.<32 hex>`, under 100). */
export const MAX_ID_CHARS = 256;
/**
 * Longest bucket name and key accepted. Both come from the handler's own arguments, so names
 * the grants refuse (an empty bucket, a key past S3's 1024 bytes) are refused there, as a
 * permission error; only lengths no store has are a protocol violation.
 */
export const MAX_BUCKET_CHARS = 1024;
export const MAX_KEY_CHARS = 4096;
/** Error texts are kept to this length: a handler's own error may be long, and that is not hostile. */
export const MAX_ERROR_CHARS = 64 * 1024;
/**
 * Room around a result's value on its line (`{"t":"result","id":…,"ok":true,"value":…}`): a
 * line longer than the value's cap plus this carries a value past MAX_RESULT_BYTES.
 */
const RESULT_ENVELOPE_BYTES = 1024;

/** Kinds a runtime may report itself; the others are the host's to decide (timeout, oom, …). */
const RUNTIME_KINDS = [
  'handler',
  'permanent',
  'permission',
  'init',
  'result-too-large',
] as const satisfies readonly ErrorKind[];

const id = z.string().min(1).max(MAX_ID_CHARS);
const text = (max: number) => z.string().transform((s) => (s.length > max ? s.slice(0, max) : s));

const wireError = <K extends z.ZodType<ErrorKind>>(kind: K) =>
  z.strictObject({
    kind,
    name: text(256).optional(),
    message: text(MAX_ERROR_CHARS),
    stack: text(MAX_ERROR_CHARS).optional(),
  });

const hello = z.strictObject({ t: z.literal('hello'), pid: z.int().min(0), node: z.string().max(64) });
const ready = z.strictObject({ t: z.literal('ready') });
const initError = z.strictObject({
  t: z.literal('init-error'),
  error: wireError(z.enum(['init', 'permanent'])),
});
const log = z.strictObject({
  t: z.literal('log'),
  id,
  level: z.enum(['debug', 'info', 'warn', 'error']),
  // One line never exceeds the whole invocation's budget: the runtime cuts before sending it.
  msg: z.string().max(MAX_LOG_BYTES),
  ts: z.number().finite(),
});
const result = z.union([
  z.strictObject({ t: z.literal('result'), id, ok: z.literal(true), value: z.unknown() }),
  z.strictObject({
    t: z.literal('result'),
    id,
    ok: z.literal(false),
    error: wireError(z.enum(RUNTIME_KINDS)),
  }),
]);
const bucket = z.string().max(MAX_BUCKET_CHARS);
const key = z.string().max(MAX_KEY_CHARS);
const storage = z.discriminatedUnion('op', [
  z.strictObject({
    t: z.literal('storage'),
    reqId: z.int().min(0),
    id,
    op: z.literal('list'),
    bucket,
    prefix: key,
  }),
  z.strictObject({
    t: z.literal('storage'),
    reqId: z.int().min(0),
    id,
    op: z.literal('delete'),
    bucket,
    key,
  }),
]);
// The runtime reports every crash as an exit; the host files it as one whatever it says.
const crash = z.strictObject({ t: z.literal('crash'), error: wireError(z.literal('exit')) });

const SCHEMAS = { hello, ready, 'init-error': initError, log, result, storage, crash } as const;

const streamHeader = z.strictObject({
  t: z.literal('stream'),
  id,
  op: z.enum(['get', 'put']),
  bucket,
  key,
  contentType: z.string().max(256).optional(),
});

export type Parsed<T> = { ok: true; msg: T } | { ok: false; reason: ViolationReason; detail: string };

/** JSON.parse that reports instead of throwing, and insists on an object with a string `t`. */
function parseObject(line: string): Parsed<{ t: string } & Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    // The parser's own message quotes the input: the bytes stay out of logs and records.
    return { ok: false, reason: 'bad-json', detail: `not JSON (${Buffer.byteLength(line)} bytes)` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, reason: 'not-an-object', detail: value === null ? 'null' : typeof value };
  const t = (value as { t?: unknown }).t;
  if (typeof t !== 'string') return { ok: false, reason: 'unknown-type', detail: 'no string field t' };
  return { ok: true, msg: value as { t: string } & Record<string, unknown> };
}

/** The first few problems, escaped: zod quotes unknown keys, which are the sender's bytes. */
function issues(error: z.ZodError): string {
  const text = error.issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(message)'}: ${i.message}`)
    .join('; ');
  return printable(text, 200);
}

/**
 * Parses one control-channel line from a runtime.
 * @example parseRuntimeMessage('{"t":"ready"}') // { ok: true, msg: { t: 'ready' } }
 * @example parseRuntimeMessage('null') // { ok: false, reason: 'not-an-object', detail: 'null' }
 */
export function parseRuntimeMessage(line: string): Parsed<RuntimeMessage> {
  const obj = parseObject(line);
  if (!obj.ok) return obj;
  const t = obj.msg.t;
  if (!Object.hasOwn(SCHEMAS, t))
    return { ok: false, reason: 'unknown-type', detail: `t=${printable(t, 32)}` };
  const parsed = SCHEMAS[t as keyof typeof SCHEMAS].safeParse(obj.msg);
  if (!parsed.success) return { ok: false, reason: 'bad-fields', detail: `${t}: ${issues(parsed.error)}` };
  // The runtime refuses larger results itself (result-too-large); a line this long carries one anyway.
  if (
    t === 'result' &&
    (parsed.data as { ok: boolean }).ok &&
    Buffer.byteLength(line) > MAX_RESULT_BYTES + RESULT_ENVELOPE_BYTES
  )
    return { ok: false, reason: 'oversized', detail: `result line of ${Buffer.byteLength(line)} bytes` };
  return { ok: true, msg: parsed.data as RuntimeMessage };
}

/**
 * Parses the first line of a connection other than the control channel: a storage stream
 * header, or an S3 request from the container's S3 endpoint.
 * @example parseStreamHeader('{"t":"stream","id":"f.1","op":"get","bucket":"b","key":"k"}').ok // true
 */
export function parseStreamHeader(line: string): Parsed<StreamHeader | S3StreamHeader> {
  const obj = parseObject(line);
  if (!obj.ok) return obj;
  if (obj.msg.t !== 'stream' && obj.msg.t !== 's3')
    return {
      ok: false,
      reason: 'not-a-stream',
      detail: `t=${printable(obj.msg.t, 32)} on a stream connection`,
    };
  const parsed = (obj.msg.t === 's3' ? s3StreamHeaderSchema : streamHeader).safeParse(obj.msg);
  if (!parsed.success) return { ok: false, reason: 'bad-stream-header', detail: issues(parsed.error) };
  return { ok: true, msg: parsed.data };
}

/**
 * A short, printable prefix of untrusted bytes for a log line: JSON-escaped (no control
 * characters reach the log), cut at `max` characters.
 */
export function printable(raw: string, max = 64): string {
  const cut = raw.length > max ? `${raw.slice(0, max)}…` : raw;
  return JSON.stringify(cut).slice(1, -1);
}
