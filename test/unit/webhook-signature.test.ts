import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  signGithub,
  signTimestamped,
  verifySignature,
  type SignatureCheck,
} from '../../src/triggers/webhook/signature.js';

const SECRET = 'shh-this-is-the-secret';
const body = Buffer.from('{"action":"opened"}');
const NOW = 1_800_000_000;

const check = (
  kind: 'github' | 'timestamped' | undefined,
  headers: Record<string, string>,
  b: Buffer = body,
): SignatureCheck => verifySignature({ kind, secret: SECRET, headers, body: b, nowS: NOW });

/** A timestamped signature over `<t as text>.<body>`, whatever the text. */
const stampedOver = (t: string) =>
  `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.`).update(body).digest('hex')}`;

describe('GitHub signatures', () => {
  it('accepts the HMAC of the body, in either case of hex', () => {
    expect(check('github', { 'x-hub-signature-256': signGithub(SECRET, body) })).toEqual({ ok: true });
    expect(
      check('github', {
        'x-hub-signature-256': signGithub(SECRET, body).toUpperCase().replace('SHA256', 'sha256'),
      }),
    ).toEqual({ ok: true });
  });

  it.each([
    ['another body', signGithub(SECRET, 'other'), 'signature does not match'],
    ['another secret', signGithub('other', body), 'signature does not match'],
    ['no sha256= prefix', signGithub(SECRET, body).slice(7), 'x-hub-signature-256 must be sha256=<hex>'],
    ['a short hex', 'sha256=abcd', 'signature does not match'],
  ])('refuses %s', (_what, header, reason) => {
    expect(check('github', { 'x-hub-signature-256': header })).toEqual({ ok: false, reason });
  });
});

describe('timestamped signatures', () => {
  const hmac = (t: number, b: Buffer = body) =>
    createHmac('sha256', SECRET).update(`${t}.`).update(b).digest('hex');

  it('accepts a fresh one, and one of several v1 values (a rotated secret)', () => {
    expect(check('timestamped', { 'x-faas-signature': signTimestamped([SECRET], body, NOW - 10) })).toEqual({
      ok: true,
      replayKey: `${NOW - 10}.${hmac(NOW - 10)}`,
    });
    expect(
      check('timestamped', { 'x-faas-signature': signTimestamped(['old-secret', SECRET], body, NOW + 10) }),
    ).toEqual({ ok: true, replayKey: `${NOW + 10}.${hmac(NOW + 10)}` });
  });

  it('names what was signed: the same for a replay, another for another second or body', () => {
    const key = (t: number, b: Buffer = body) => {
      const r = check('timestamped', { 'x-faas-signature': signTimestamped([SECRET], b, t) }, b);
      return r.ok ? r.replayKey : r.reason;
    };
    expect(key(NOW)).toBe(key(NOW));
    expect(key(NOW)).not.toBe(key(NOW - 1));
    expect(key(NOW)).not.toBe(key(NOW, Buffer.from('{"action":"closed"}')));
  });

  it.each([
    [
      'a stale timestamp',
      signTimestamped([SECRET], body, NOW - 301),
      'signature timestamp outside the tolerance window',
    ],
    [
      'a timestamp in hex, though its own HMAC matches',
      stampedOver(`0x${NOW.toString(16)}`),
      'x-faas-signature must be t=<unix seconds>,v1=<hex>',
    ],
    [
      'a decimal timestamp, though its own HMAC matches',
      stampedOver(`${NOW}.0`),
      'x-faas-signature must be t=<unix seconds>,v1=<hex>',
    ],
    ['an empty timestamp', `t=,v1=${'0'.repeat(64)}`, 'x-faas-signature must be t=<unix seconds>,v1=<hex>'],
    ['no v1', `t=${NOW}`, 'x-faas-signature must be t=<unix seconds>,v1=<hex>'],
    ['a tampered body', signTimestamped([SECRET], 'other', NOW), 'signature does not match'],
  ])('refuses %s', (_what, header, reason) => {
    expect(check('timestamped', { 'x-faas-signature': header })).toEqual({ ok: false, reason });
  });
});

describe('a missing signature names the header the trigger checks', () => {
  it.each([
    [
      'github',
      { 'x-faas-signature': signTimestamped([SECRET], body, NOW) },
      'missing signature: send x-hub-signature-256',
    ],
    [
      'timestamped',
      { 'x-hub-signature-256': signGithub(SECRET, body) },
      'missing signature: send x-faas-signature',
    ],
    [undefined, {}, 'missing signature: send x-hub-signature-256 or x-faas-signature'],
  ] as const)('%s', (kind, headers, reason) => {
    expect(check(kind, headers)).toEqual({ ok: false, reason });
  });
});
