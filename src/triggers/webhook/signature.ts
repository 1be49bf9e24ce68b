import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header of GitHub's form: `sha256=<hex HMAC-SHA256 of the raw body>`. */
export const GITHUB_HEADER = 'x-hub-signature-256';
/**
 * Header of the timestamped form (Stripe's shape): `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`,
 * each v1 an HMAC-SHA256 of `<t>.<raw body>`; several v1 values let senders rotate secrets.
 */
export const TIMESTAMPED_HEADER = 'x-faas-signature';
/** How far a timestamped signature may be from now, either way. */
export const DEFAULT_TOLERANCE_S = 300;

/**
 * A signature's verdict. A timestamped one that holds also names what was signed (`replayKey`):
 * the same key again within the tolerance window is the same delivery replayed, not a new one.
 */
export type SignatureCheck = { ok: true; replayKey?: string } | { ok: false; reason: string };

function hmacHex(secret: string, data: Buffer): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

function equalHex(expected: Buffer, hex: string): boolean {
  if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

/**
 * Checks a webhook request's signature in constant time. With `kind` unset, whichever of the
 * two headers is present is checked.
 * @example verifySignature({ secret, headers, body, nowS: Date.now() / 1000 })
 */
export function verifySignature(o: {
  kind?: 'github' | 'timestamped';
  secret: string;
  headers: Record<string, string | undefined>;
  body: Buffer;
  nowS: number;
  toleranceS?: number;
}): SignatureCheck {
  const github = o.headers[GITHUB_HEADER];
  const stamped = o.headers[TIMESTAMPED_HEADER];
  if ((o.kind === 'github' || (!o.kind && github)) && github !== undefined) {
    const m = /^sha256=(.+)$/.exec(github.trim());
    if (!m) return { ok: false, reason: `${GITHUB_HEADER} must be sha256=<hex>` };
    return equalHex(hmacHex(o.secret, o.body), m[1] as string)
      ? { ok: true }
      : { ok: false, reason: 'signature does not match' };
  }
  if ((o.kind === 'timestamped' || !o.kind) && stamped !== undefined) {
    const parts = stamped.split(',').map((p) => p.trim().split('=', 2) as [string, string?]);
    // The digits as sent are what was signed: `t=0x…` or `t=12.0` would sign other text.
    const text = parts.find(([k]) => k === 't')?.[1] ?? '';
    const sigs = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
    if (!/^\d{1,12}$/.test(text) || sigs.length === 0) {
      return { ok: false, reason: `${TIMESTAMPED_HEADER} must be t=<unix seconds>,v1=<hex>` };
    }
    const t = Number(text);
    if (Math.abs(o.nowS - t) > (o.toleranceS ?? DEFAULT_TOLERANCE_S)) {
      return { ok: false, reason: 'signature timestamp outside the tolerance window' };
    }
    const expected = hmacHex(o.secret, Buffer.concat([Buffer.from(`${text}.`), o.body]));
    // Check every candidate (no early exit), so timing does not tell which one matched.
    let match = false;
    for (const s of sigs) match = equalHex(expected, s) || match;
    return match
      ? { ok: true, replayKey: `${text}.${expected.toString('hex')}` }
      : { ok: false, reason: 'signature does not match' };
  }
  const expected =
    o.kind === 'github'
      ? GITHUB_HEADER
      : o.kind === 'timestamped'
        ? TIMESTAMPED_HEADER
        : `${GITHUB_HEADER} or ${TIMESTAMPED_HEADER}`;
  return { ok: false, reason: `missing signature: send ${expected}` };
}

/** Signs a body in GitHub's form (for clients and tests). */
export function signGithub(secret: string, body: Buffer | string): string {
  return `sha256=${hmacHex(secret, Buffer.from(body)).toString('hex')}`;
}

/** Signs a body in the timestamped form with one or more secrets. */
export function signTimestamped(secrets: string[], body: Buffer | string, tS: number): string {
  const data = Buffer.concat([Buffer.from(`${tS}.`), Buffer.from(body)]);
  return [`t=${tS}`, ...secrets.map((s) => `v1=${hmacHex(s, data).toString('hex')}`)].join(',');
}
