import type { StorageGrant } from '../../manifest/types.js';
import { allowed, unsafeKey } from '../grants.js';
import type { S3Call } from './classify.js';

export interface Grants {
  read: StorageGrant[];
  write: StorageGrant[];
}

export interface AuthorizeOptions {
  /** The platform's code bucket: never reachable from a function, whatever its grants say. */
  codeBucket: string;
  /** Epoch ms, for the expiry of presigned URLs. */
  now: number;
}

const where = (grants: StorageGrant[], bucket: string): string => {
  const mine = grants.filter((g) => g.bucket === bucket).map((g) => `${g.bucket}/${g.prefix}`);
  return mine.length ? `granted: ${mine.join(', ')}` : `nothing in bucket ${bucket} is granted`;
};

function object(
  op: string,
  access: 'read' | 'write',
  grants: Grants,
  bucket: string,
  key: string,
  o: AuthorizeOptions,
): string | undefined {
  if (bucket === o.codeBucket)
    return `${op} ${bucket}/${key}: the platform's code bucket is never open to functions`;
  const bad = unsafeKey(key);
  if (bad) return `${op} refused: ${bad}: ${JSON.stringify(key)}`;
  if (!allowed(grants[access], bucket, key))
    return `${op} ${bucket}/${key} is not allowed: grant it under storage.${access} in the manifest (${where(grants[access], bucket)})`;
  return undefined;
}

/**
 * Why the function may not make `call`, or undefined when its grants allow it: objects read need
 * a read grant, objects written a write grant (a copy needs both), and a listing's prefix must lie
 * within a read grant. `grants` is undefined until the container has been given a function.
 * @example authorize(getOfInCsv, { read: [{ bucket: 'in', prefix: 'csv/' }], write: [] }, o) // undefined
 */
export function authorize(call: S3Call, grants: Grants | undefined, o: AuthorizeOptions): string | undefined {
  if (!grants) return 'this container has not been given a function yet';
  if (call.expiresAt !== undefined && call.expiresAt < o.now)
    return `the presigned URL expired at ${new Date(call.expiresAt).toISOString()}`;
  const { op, bucket, key } = call;
  if (call.access === 'list') {
    if (bucket === o.codeBucket)
      return `${op} ${bucket}: the platform's code bucket is never open to functions`;
    if (op === 'HeadBucket') {
      const any = [...grants.read, ...grants.write].some((g) => g.bucket === bucket);
      return any
        ? undefined
        : `HeadBucket ${bucket} is not allowed: nothing in it is granted to this function`;
    }
    const bad = key === '' ? undefined : unsafeKey(key);
    if (bad) return `${op} refused: prefix: ${bad}: ${JSON.stringify(key)}`;
    if (!allowed(grants.read, bucket, key))
      return `${op} of ${bucket}/${key}* is not allowed: list with a prefix inside a storage.read grant (${where(grants.read, bucket)})`;
    return undefined;
  }
  if (call.copySource) {
    const src = call.copySource;
    const denial = object(`${op} from`, 'read', grants, src.bucket, src.key, o);
    if (denial) return denial;
  }
  return object(op, call.access, grants, bucket, key, o);
}
