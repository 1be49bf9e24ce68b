import type { StorageGrant } from '../manifest/types.js';

export type Access = 'read' | 'write';

/**
 * Why a key is unsafe to use under a prefix grant, or undefined when it is fine. S3 keys are
 * literal strings, but tools downstream often treat them as paths: a key that climbs (`../`),
 * starts at the root, or hides separators is refused rather than interpreted.
 */
export function unsafeKey(key: string): string | undefined {
  if (key.length === 0) return 'empty key';
  if (Buffer.byteLength(key) > 1024) return 'key longer than 1024 bytes';
  if (key.startsWith('/')) return 'absolute key';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f\\]/.test(key)) return 'control character or backslash in key';
  if (key.split('/').some((seg) => seg === '..' || seg === '.')) return 'dot segment in key';
  if (/%2f|%5c|%2e%2e/i.test(key)) return 'encoded separator in key';
  // Half-encoded dot segments (`.%2e`, `%2e.`, `%2e`) are one decoding away from climbing too.
  const decoded = key.split('/').map((seg) => seg.replace(/%2e/gi, '.'));
  if (decoded.some((seg) => seg === '..' || seg === '.')) return 'encoded dot segment in key';
  return undefined;
}

/**
 * True when `grants` allow `key` in `bucket`. An empty key is allowed for listing the whole
 * bucket only when a grant covers the whole bucket.
 * @example allowed([{ bucket: 'in', prefix: 'csv/' }], 'in', 'csv/a.csv') // true
 */
export function allowed(grants: StorageGrant[], bucket: string, key: string): boolean {
  return grants.some((g) => g.bucket === bucket && key.startsWith(g.prefix));
}

/** A listing is allowed when the prefix lies inside a grant (or the grant lies inside it, then filtered). */
export function listScope(grants: StorageGrant[], bucket: string, prefix: string): string[] {
  const scopes = [
    ...new Set(
      grants
        .filter((g) => g.bucket === bucket && (prefix.startsWith(g.prefix) || g.prefix.startsWith(prefix)))
        .map((g) => (prefix.startsWith(g.prefix) ? prefix : g.prefix)),
    ),
  ];
  // A scope inside another would list the same objects twice.
  return scopes.filter((s) => !scopes.some((o) => o !== s && s.startsWith(o)));
}
