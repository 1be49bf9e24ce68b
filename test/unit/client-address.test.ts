import { describe, expect, it } from 'vitest';
import { clientAddress, parseTrustedProxies } from '../../src/http/client-address.js';
import { loadConfig } from '../../src/config/index.js';

const trusted = parseTrustedProxies('127.0.0.1, 10.0.0.0/8, fd00::/8');

describe('clientAddress', () => {
  it.each([
    ['an untrusted peer is the client, whatever it forwards', '203.0.113.5', '198.51.100.1', '203.0.113.5'],
    ['a trusted peer without X-Forwarded-For is the client', '127.0.0.1', undefined, '127.0.0.1'],
    ['the hop the trusted proxy added', '127.0.0.1', '198.51.100.1', '198.51.100.1'],
    ['a hop the client wrote itself is ignored', '127.0.0.1', '6.6.6.6, 198.51.100.1', '198.51.100.1'],
    [
      'trusted hops are skipped from the right',
      '127.0.0.1',
      '6.6.6.6, 198.51.100.1, 10.1.2.3',
      '198.51.100.1',
    ],
    ['all hops trusted: the leftmost', '127.0.0.1', '10.0.0.1, 10.0.0.2', '10.0.0.1'],
    ['an IPv4-mapped peer', '::ffff:127.0.0.1', '198.51.100.1', '198.51.100.1'],
    ['an IPv6 network', 'fd00::1', '2001:db8::7', '2001:db8::7'],
    ['a port on a hop is dropped', '127.0.0.1', '198.51.100.1:4711', '198.51.100.1'],
    ['a bracketed IPv6 hop with a port', '127.0.0.1', '[2001:db8::7]:443', '2001:db8::7'],
    ['garbage stops at the last trusted hop', '127.0.0.1', '198.51.100.1, nonsense, 10.0.0.9', '10.0.0.9'],
    ['an empty hop stops at the peer', '127.0.0.1', ' ', '127.0.0.1'],
  ])('%s', (_what, peer, xff, expected) => {
    expect(clientAddress(peer, xff, trusted)).toBe(expected);
  });

  it('trusts nobody by default', () => {
    expect(clientAddress('127.0.0.1', '198.51.100.1', parseTrustedProxies(''))).toBe('127.0.0.1');
  });
});

describe('parseTrustedProxies', () => {
  it.each(['localhost', '10.0.0.0/33', '10.0.0.0/8/1', '::1/129', '10.0.0.0/x'])('refuses %s', (entry) => {
    expect(() => parseTrustedProxies(entry)).toThrow(entry);
  });

  it('FAAS_TRUSTED_PROXIES is checked with the other settings', () => {
    expect(() => loadConfig({ FAAS_TRUSTED_PROXIES: '127.0.0.1, proxy.local' })).toThrow(
      /FAAS_TRUSTED_PROXIES="127.0.0.1, proxy.local" must be addresses or CIDR networks/,
    );
    expect(loadConfig({ FAAS_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8' }).FAAS_TRUSTED_PROXIES).toBe(
      '127.0.0.1, 10.0.0.0/8',
    );
  });
});
