/**
 * The rules for names and paths in a manifest, as pure functions returning what is wrong (or
 * undefined). The schema turns them into problems; nothing here touches the file system.
 */

/** A function's name: a DNS label. No dots: invocation ids are `<function>.<id>`. */
export const FUNCTION_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Environment variable names, and names a function may not set because the platform does. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const RESERVED_ENV_PREFIXES = ['FAAS_', 'AWS_'] as const;

/** A webhook secret is given as the name of the variable holding it. */
export const SECRET_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

/** `s3:ObjectCreated:*`, `s3:ObjectRemoved:Delete`. */
export const EVENT_NAME_PATTERN = /^s3:[A-Za-z]+:(\*|[A-Za-z]+)$/;

/** An HTTP header name (RFC 9110 token). */
export const HEADER_NAME_PATTERN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

export const WEBHOOK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** First path segments the platform's own HTTP API and services use. */
export const RESERVED_WEBHOOK_ROOTS = [
  'functions',
  'invocations',
  'healthz',
  'metrics',
  'minio',
  'dlq',
  'ui',
];

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
  const root = segments[0]!.toLowerCase();
  if (RESERVED_WEBHOOK_ROOTS.includes(root)) {
    return `/${root} is reserved for the platform (reserved: ${RESERVED_WEBHOOK_ROOTS.map((r) => `/${r}`).join(', ')})`;
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
