/**
 * The rules for names and paths in a manifest, as pure functions returning what is wrong (or
 * undefined). The schema turns them into problems; nothing here touches the file system.
 */
import { reservedBy } from '../http/routes.js';

/** A function's name: a DNS label. No dots: invocation ids are `<function>.<id>`. */
export const FUNCTION_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Environment variable names, and names a function may not set because the platform does. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * Names Lambda reserves for its runtime (`AWS_*`, `LAMBDA_TASK_ROOT`, `LAMBDA_RUNTIME_DIR`,
 * `_HANDLER`, `_X_AMZN_TRACE_ID`) and the platform's own (`FAAS_*`): the runtime sets them.
 */
export const RESERVED_ENV_PREFIXES = ['FAAS_', 'AWS_', 'LAMBDA_', '_HANDLER', '_X_AMZN_'] as const;

/** A webhook secret is given as the name of the variable holding it. */
export const SECRET_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

/**
 * The S3 event names a bucket trigger may name: those AWS S3 and MinIO send when an object is
 * written or removed, each family with its `*`. Reads (`s3:ObjectAccessed:*`) are left out: a
 * read does not change the object, so every read of it carries the event id of the first
 * (bucket, key, version, modification time) and all but the first would be dropped as duplicates.
 * MinIO's own `PutRetention`, `PutLegalHold` and tagging events are left out for the same reason.
 */
export const S3_EVENT_NAMES = [
  's3:ObjectCreated:*',
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:*',
  's3:ObjectRemoved:Delete',
  's3:ObjectRemoved:DeleteMarkerCreated',
] as const;

/** What is wrong with an S3 event name in a bucket trigger. */
export function eventNameProblem(name: string): string | undefined {
  if ((S3_EVENT_NAMES as readonly string[]).includes(name)) return undefined;
  const known = S3_EVENT_NAMES.join(', ');
  const meant = S3_EVENT_NAMES.find((n) =>
    [name, `s3:${name}`].some((x) => x.toLowerCase() === n.toLowerCase()),
  );
  if (meant) return `unknown S3 event "${name}" (did you mean "${meant}"?)`;
  if (/^s3:ObjectAccessed:/i.test(name)) {
    return `"${name}" is not delivered: every read of an unchanged object has the same event id, so only the first would run; use one of ${known}`;
  }
  return `unknown S3 event "${name}"; use one of ${known}`;
}

/** An HTTP header name (RFC 9110 token). */
export const HEADER_NAME_PATTERN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

export const WEBHOOK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** `<file without extension>.<export>`: `csv-summary/index.handler`. */
export const HANDLER_PATTERN = /^(.+)\.([A-Za-z_$][A-Za-z0-9_$]*)$/;

/** A rough shape for editors; {@link bucketNameProblem} has the exact rules. */
export const BUCKET_NAME_HINT = '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$';

const RESERVED_BUCKET_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_BUCKET_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/** What is wrong with an S3 bucket name, by the S3 naming rules MinIO and AWS share. */
export function bucketNameProblem(name: string): string | undefined {
  const bad = `"${name}" is not a valid bucket name`;
  if (name.length < 3 || name.length > 63) return `${bad}: it must be 3 to 63 characters long`;
  if (!/^[a-z0-9.-]+$/.test(name)) return `${bad}: use only lowercase letters, digits, dots and hyphens`;
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) {
    return `${bad}: it must start and end with a letter or digit`;
  }
  if (name.includes('..')) return `${bad}: it must not contain two dots in a row`;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return `${bad}: it must not look like an IP address`;
  const prefix = RESERVED_BUCKET_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `${bad}: the prefix "${prefix}" is reserved`;
  const suffix = RESERVED_BUCKET_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix) return `${bad}: the suffix "${suffix}" is reserved`;
  return undefined;
}

/** Splits a storage grant, `bucket` or `bucket/prefix/`, at its first slash. */
export function splitGrant(grant: string): { bucket: string; prefix: string } {
  const slash = grant.indexOf('/');
  return slash < 0
    ? { bucket: grant, prefix: '' }
    : { bucket: grant.slice(0, slash), prefix: grant.slice(slash + 1) };
}

/** What is wrong with a storage grant. */
export function grantProblem(grant: string): string | undefined {
  const { bucket, prefix } = splitGrant(grant);
  const bucketProblem = bucketNameProblem(bucket);
  if (bucketProblem) return bucketProblem;
  if (prefix === '') return undefined;
  if (prefix.startsWith('/')) return `the prefix in "${grant}" must not start with "/"`;
  if (prefix.split('/').some((s) => s === '..' || s === '.')) {
    return `the prefix in "${grant}" must not contain "." or ".." segments`;
  }
  // Without the slash, `uploads/csv` would also grant `uploads/csv-private/...`.
  if (!prefix.endsWith('/')) return `a prefix grant must end with "/" (like ${bucket}/${prefix}/)`;
  return undefined;
}

/** What is wrong with a webhook path. */
export function webhookPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return `must start with "/" (like /hooks/csv)`;
  if (path === '/') return 'must name a path below "/" (like /hooks/csv)';
  if (!/^[A-Za-z0-9._~/-]+$/.test(path)) {
    return 'may contain only letters, digits, "/", "-", ".", "_" and "~" (no query string or parameters)';
  }
  const segments = path.slice(1).split('/');
  if (segments.some((s) => s === '..' || s === '.')) return 'must not contain "." or ".." segments';
  if (segments.some((s) => s === '')) return 'must not contain "//" or end with "/"';
  const route = reservedBy(path);
  if (route) {
    const own = route === path ? 'route' : `route ${route}`;
    return `${path} is reserved for the platform's own ${own}: choose another path, like /hooks${path}`;
  }
  return undefined;
}

/** What is wrong with a handler reference, before looking for its file. */
export function handlerProblem(handler: string): string | undefined {
  const m = HANDLER_PATTERN.exec(handler);
  if (!m) return 'must be <file path without extension>.<export name>, like csv-summary/index.handler';
  const file = m[1]!;
  if (file.startsWith('/') || file.includes('\\') || /^[A-Za-z]:/.test(file)) {
    return 'must be a path relative to the manifest\'s folder, with "/" between folders';
  }
  if (file.split('/').includes('..')) return "must stay inside the manifest's folder (no .. segments)";
  const ext = /\.(js|mjs|cjs|ts|mts|cts)$/.exec(file);
  if (ext) return `leave out the extension: write ${file.slice(0, -ext[0].length)}.${m[2]}`;
  return undefined;
}
