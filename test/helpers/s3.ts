import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';

/** Every key under `prefix`, across pages. */
export async function listKeys(s3: S3Client, Bucket: string, Prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const res = await s3.send(new ListObjectsV2Command({ Bucket, Prefix, ContinuationToken: token }));
    keys.push(...(res.Contents ?? []).map((o) => o.Key as string));
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Deletes every object, then the bucket (a test's cleanup: errors are not the test's result). */
export async function dropBucket(s3: S3Client, Bucket: string): Promise<void> {
  const keys = await listKeys(s3, Bucket).catch(() => []);
  for (let i = 0; i < keys.length; i += 1000) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) },
      }),
    );
  }
  await s3.send(new DeleteBucketCommand({ Bucket })).catch(() => undefined);
}
