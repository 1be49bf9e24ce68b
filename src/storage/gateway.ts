import type { Readable } from 'node:stream';
import type { ObjectInfo } from '../runtime/protocol.js';

/** The S3 calls the host makes for functions. Grants are checked before any call reaches it. */
export interface StorageGateway {
  get(bucket: string, key: string): Promise<{ body: Readable; contentType?: string; contentLength?: number }>;
  put(bucket: string, key: string, body: Readable, contentType?: string): Promise<{ etag?: string }>;
  list(bucket: string, prefix: string, limit: number): Promise<ObjectInfo[]>;
  delete(bucket: string, key: string): Promise<void>;
}
