import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import type { ObjectInfo } from '../runtime/protocol.js';
import type { StorageGateway } from './gateway.js';

/** Thrown for a missing object, so the function sees a clear `NoSuchKey`. */
export class ObjectNotFound extends Error {
  override name = 'NoSuchKey';
}

/**
 * StorageGateway over the AWS SDK. Bodies stream both ways: a 100 MB object never sits whole in
 * the platform's memory (uploads go multipart, 8 MB parts, two in flight).
 */
export class S3Gateway implements StorageGateway {
  constructor(private readonly s3: S3Client) {}

  async get(bucket: string, key: string) {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return { body: res.Body as Readable, contentType: res.ContentType, contentLength: res.ContentLength };
    } catch (err) {
      if (err instanceof NoSuchKey) throw new ObjectNotFound(`no object ${key} in bucket ${bucket}`);
      throw err;
    }
  }

  async put(bucket: string, key: string, body: Readable, contentType?: string) {
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const res = await upload.done();
    return { etag: res.ETag };
  }

  async list(bucket: string, prefix: string, limit: number): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const res = await this.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: 1000 }),
      );
      for (const o of res.Contents ?? []) {
        if (out.length >= limit) return out;
        out.push({
          key: o.Key ?? '',
          size: o.Size ?? 0,
          etag: o.ETag,
          lastModified: o.LastModified?.toISOString(),
        });
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async delete(bucket: string, key: string) {
    await this.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }
}
