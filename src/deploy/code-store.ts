import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { ensureBuckets } from '../storage/buckets.js';

/** The bucket that holds function code unless `FAAS_CODE_BUCKET` names another. No grant may name it. */
export const DEFAULT_CODE_BUCKET = 'faas-code';

/** Most bytes of code kept in memory by one process; the least recently used bundle goes first. */
const CACHE_BYTES = 256 * 1024 * 1024;

const HASH = /^[0-9a-f]{64}$/;

/** The sha256 of a bundle, in hex: its name in the store. */
export function codeHash(code: Buffer | string): string {
  return createHash('sha256').update(code).digest('hex');
}

/** Raised when the store has no bundle by that hash, or what it holds does not match the hash. */
export class CodeNotFound extends Error {
  override name = 'CodeNotFound';
}

/**
 * Function code stored by content (sha256) in a bucket of its own: every platform process, on
 * any host, loads a version's code from here and never from its own disk. A bundle is written
 * once and never changes, so a cached copy is always right.
 * @example const hash = await store.put(bundle); const code = await store.get(hash);
 */
export class CodeStore {
  private readonly cache = new Map<string, Buffer>();
  private cached = 0;

  constructor(
    private readonly s3: S3Client,
    readonly bucket: string = DEFAULT_CODE_BUCKET,
  ) {}

  /** Creates the bucket when it does not exist. */
  async ensureBucket(): Promise<void> {
    await ensureBuckets(this.s3, [this.bucket]);
  }

  private key(hash: string): string {
    if (!HASH.test(hash)) throw new CodeNotFound(`not a code hash: ${JSON.stringify(hash)}`);
    return `sha256/${hash}`;
  }

  /** True when the store already holds the bundle with this hash. */
  async has(hash: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(hash) }));
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return false;
      throw err;
    }
  }

  /** Stores a bundle (unless it is there already) and returns its hash. */
  async put(code: Buffer | string): Promise<string> {
    const body = typeof code === 'string' ? Buffer.from(code) : code;
    const hash = codeHash(body);
    if (!(await this.has(hash))) {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(hash),
          Body: body,
          ContentType: 'application/octet-stream',
        }),
      );
    }
    this.remember(hash, body);
    return hash;
  }

  /** The bundle with this hash; its content is checked against the hash. */
  async get(hash: string): Promise<Buffer> {
    const hit = this.cache.get(hash);
    if (hit) {
      // Map order is insertion order: re-inserting marks it the most recently used.
      this.cache.delete(hash);
      this.cache.set(hash, hit);
      return hit;
    }
    let body: Buffer;
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(hash) }));
      body = Buffer.from(
        await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) throw new CodeNotFound(`no code ${hash.slice(0, 12)} in bucket ${this.bucket}`);
      throw err;
    }
    if (codeHash(body) !== hash)
      throw new CodeNotFound(`code ${hash.slice(0, 12)} in bucket ${this.bucket} does not match its hash`);
    this.remember(hash, body);
    return body;
  }

  private remember(hash: string, body: Buffer): void {
    if (this.cache.has(hash) || body.length > CACHE_BYTES) return;
    this.cache.set(hash, body);
    this.cached += body.length;
    for (const [h, b] of this.cache) {
      if (this.cached <= CACHE_BYTES) break;
      this.cache.delete(h);
      this.cached -= b.length;
    }
  }
}
