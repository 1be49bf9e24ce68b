import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readFirstLine } from './lines.js';
import type { ObjectInfo, StorageOp, StreamHeader, StreamReply, WireError } from './protocol.js';

/** Error thrown by storage calls; `kind` tells the host how to classify it if it escapes. */
export class StorageError extends Error {
  readonly kind: WireError['kind'];
  readonly code: string;
  constructor(error: WireError, code = error.name ?? 'StorageError') {
    super(error.message);
    this.name = error.kind === 'permission' ? 'PermissionError' : (error.name ?? 'StorageError');
    this.kind = error.kind;
    this.code = code;
  }
}

export interface GetResult<B> {
  body: B;
  contentType?: string;
  contentLength?: number;
}

/**
 * Storage the host performs on the function's behalf, limited to the buckets the manifest grants.
 * The container has no network: every call crosses the runtime socket.
 */
export interface Storage {
  getObject(bucket: string, key: string): Promise<GetResult<Buffer>>;
  getObjectStream(bucket: string, key: string): Promise<GetResult<Readable>>;
  putObject(
    bucket: string,
    key: string,
    body: string | Uint8Array,
    options?: { contentType?: string },
  ): Promise<{ etag?: string }>;
  putObjectStream(
    bucket: string,
    key: string,
    body: Readable | AsyncIterable<Uint8Array>,
    options?: { contentType?: string },
  ): Promise<{ etag?: string }>;
  listObjects(bucket: string, prefix?: string): Promise<ObjectInfo[]>;
  deleteObject(bucket: string, key: string): Promise<void>;
}

type Call = (op: StorageOp) => Promise<unknown>;

/** Reads the host's one-line JSON reply from the front of a stream connection. */
async function readReply(socket: Socket): Promise<StreamReply> {
  return JSON.parse(await readFirstLine(socket, 64 * 1024)) as StreamReply;
}

export function makeStorage(socketPath: string, invocationId: string, call: Call): Storage {
  const open = (header: StreamHeader) => {
    const socket = connect(socketPath);
    socket.write(JSON.stringify(header) + '\n');
    return socket;
  };
  const fail = (reply: StreamReply): never => {
    throw new StorageError(reply.error ?? { kind: 'handler', message: 'storage call failed' });
  };

  const getObjectStream = async (bucket: string, key: string): Promise<GetResult<Readable>> => {
    const socket = open({ t: 'stream', id: invocationId, op: 'get', bucket, key });
    const reply = await readReply(socket);
    if (!reply.ok) {
      socket.destroy();
      return fail(reply);
    }
    return { body: socket, contentType: reply.contentType, contentLength: reply.contentLength };
  };

  const putObjectStream: Storage['putObjectStream'] = async (bucket, key, body, options) => {
    const socket = open({
      t: 'stream',
      id: invocationId,
      op: 'put',
      bucket,
      key,
      contentType: options?.contentType,
    });
    const replied = readReply(socket);
    // The host answers early (and closes) when the put is refused; the pipeline then errors.
    const sent = pipeline(Readable.from(body), socket, { end: true }).catch(() => undefined);
    const reply = await replied;
    await sent;
    socket.destroy();
    return reply.ok ? { etag: reply.etag } : fail(reply);
  };

  return {
    getObjectStream,
    async getObject(bucket, key) {
      const res = await getObjectStream(bucket, key);
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) chunks.push(chunk as Buffer);
      return { ...res, body: Buffer.concat(chunks) };
    },
    putObjectStream,
    putObject(bucket, key, body, options) {
      const bytes =
        typeof body === 'string'
          ? Buffer.from(body)
          : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      return putObjectStream(bucket, key, Readable.from([bytes]), options);
    },
    async listObjects(bucket, prefix = '') {
      return (await call({ op: 'list', bucket, prefix })) as ObjectInfo[];
    },
    async deleteObject(bucket, key) {
      await call({ op: 'delete', bucket, key });
    },
  };
}
