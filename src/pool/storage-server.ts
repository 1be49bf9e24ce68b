import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StorageGrant } from '../manifest/types.js';
import type { StorageOp, StreamHeader, StreamReply, WireError } from '../runtime/protocol.js';
import type { StorageGateway } from '../storage/gateway.js';
import { allowed, listScope, unsafeKey, type Access } from '../storage/grants.js';

/** Most keys one `listObjects` call returns. */
const LIST_LIMIT = 10_000;

export interface Grants {
  read: StorageGrant[];
  write: StorageGrant[];
}

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
 * Storage performed for one container's function, within its manifest grants. Requests reach
 * it already parsed (messages.ts) and for an invocation in flight (the channel checks both).
 */
export class StorageServer {
  grants: Grants = { read: [], write: [] };

  constructor(private readonly storage: StorageGateway) {}

  /** A small call from the control channel; resolves with the reply's value, or rejects with a WireError. */
  async request(op: StorageOp): Promise<unknown> {
    try {
      if (op.op === 'list') {
        const denial = this.check('read', op.bucket, op.prefix, true);
        if (denial) throw denial;
        const scopes = listScope(this.grants.read, op.bucket, op.prefix);
        const lists = await Promise.all(scopes.map((p) => this.storage.list(op.bucket, p, LIST_LIMIT)));
        return lists.flat().slice(0, LIST_LIMIT);
      }
      const denial = this.check('write', op.bucket, op.key);
      if (denial) throw denial;
      await this.storage.delete(op.bucket, op.key);
      return null;
    } catch (err) {
      throw (err as WireError).kind ? err : storageError(err);
    }
  }

  /** Serves one stream connection whose header has been read; never rejects. */
  async stream(socket: Socket, h: StreamHeader): Promise<void> {
    const answer = (r: StreamReply) => socket.write(JSON.stringify(r) + '\n');
    const denial = this.check(h.op === 'get' ? 'read' : 'write', h.bucket, h.key);
    if (denial) return refuse(socket, denial);
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
      if (!socket.destroyed) refuse(socket, storageError(err));
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
}

/** Answers a stream connection with a refusal and ends it. */
export function refuse(socket: Socket, error: WireError): void {
  socket.write(JSON.stringify({ ok: false, error } satisfies StreamReply) + '\n');
  socket.end();
}
