import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { FunctionSpec, Manifest } from '../manifest/types.js';

/** Every bucket the manifest names: in bucket triggers and in storage grants. */
export function manifestBuckets(manifest: Manifest): string[] {
  return functionBuckets(Object.values(manifest.functions));
}

/** The buckets some function's triggers or grants name, sorted. */
export function functionBuckets(functions: readonly FunctionSpec[]): string[] {
  const names = new Set<string>();
  for (const f of functions) {
    for (const t of f.triggers) if (t.type === 'bucket') names.add(t.bucket);
    for (const g of [...f.storage.read, ...f.storage.write]) names.add(g.bucket);
  }
  return [...names].sort();
}

/** Creates the buckets that do not exist yet; returns the names it created. */
export async function ensureBuckets(s3: S3Client, names: string[]): Promise<string[]> {
  const created: string[] = [];
  for (const Bucket of names) {
    try {
      await s3.send(new HeadBucketCommand({ Bucket }));
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== 404) throw err;
      await s3.send(new CreateBucketCommand({ Bucket }));
      created.push(Bucket);
    }
  }
  return created;
}
