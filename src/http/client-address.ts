/**
 * Who the client is when requests come through a reverse proxy: the proxy's address is the
 * socket's peer, and the client's is in `X-Forwarded-For`, a header anyone can write. Only hops
 * added by proxies the platform is told to trust count; the client is the rightmost hop that is
 * not one of them. Shared by the server (connection caps), the rate limiter and the webhook
 * events' `sourceIp`.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { Context } from 'hono';

/** The addresses and networks whose `X-Forwarded-For` is believed (FAAS_TRUSTED_PROXIES). */
export class TrustedProxies {
  constructor(
    private readonly list: BlockList,
    /** How many entries were given: none means no peer is a proxy. */
    readonly size: number,
  ) {}

  /** True when `address` (a socket's peer or a hop) is one of the trusted proxies. */
  has(address: string): boolean {
    if (this.size === 0) return false;
    const a = plainAddress(address);
    const family = isIP(a);
    if (family === 0) return false;
    return this.list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** `::ffff:10.0.0.1` (an IPv4 peer of a dual-stack socket) as `10.0.0.1`. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? (mapped[1] as string) : address;
}

/**
 * Parses a comma-separated list of addresses and CIDR networks (`10.0.0.0/8, ::1, 127.0.0.1`);
 * an empty text trusts nobody. Throws an Error naming the first entry that is neither.
 * @example const trusted = parseTrustedProxies('127.0.0.1, 10.0.0.0/8');
 */
export function parseTrustedProxies(text: string): TrustedProxies {
  const list = new BlockList();
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined)
      throw new Error(`${JSON.stringify(entry)} is not an address or a CIDR network`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      list.addAddress(address, type);
      continue;
    }
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits)
      throw new Error(`${JSON.stringify(entry)}: the prefix length must be 0 to ${bits}`);
    list.addSubnet(address, Number(prefix), type);
  }
  return new TrustedProxies(list, entries.length);
}

/** A hop of `X-Forwarded-For` as an address: blanks and a port (`1.2.3.4:80`, `[::1]:80`) removed. */
function hopAddress(hop: string): string | undefined {
  let h = hop.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(h);
  if (bracketed) h = bracketed[1] as string;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(h)) h = h.slice(0, h.lastIndexOf(':'));
  h = plainAddress(h);
  return isIP(h) ? h : undefined;
}

/**
 * The client's address: the socket's `peer` unless it is a trusted proxy; then the rightmost
 * hop of `forwardedFor` that is not a trusted proxy (or the leftmost, when all of them are).
 * A hop that is not an address stops the walk at the last trusted one: a client cannot pick a
 * fresh made-up source for every request and so slip past per-source limits.
 * @example clientAddress('127.0.0.1', '203.0.113.9, 10.0.0.2', parseTrustedProxies('127.0.0.1, 10.0.0.0/8')) // '203.0.113.9'
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | undefined,
  trusted: TrustedProxies,
): string {
  let client = plainAddress(peer);
  if (!trusted.has(client) || !forwardedFor) return client;
  const hops = forwardedFor.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i] as string);
    if (hop === undefined) return client;
    client = hop;
    if (!trusted.has(hop)) return client;
  }
  return client;
}

/** The client address the server worked out for each request it took from a trusted proxy. */
const forwarded = new WeakMap<IncomingMessage, string>();

/** Records the client of `request` (called by the server before the app sees it). */
export function rememberClient(request: IncomingMessage, address: string): void {
  forwarded.set(request, address);
}

/**
 * The client's address for a request served by `@hono/node-server`: what the server worked out
 * from a trusted proxy's `X-Forwarded-For`, else the socket's peer; `unknown` for in-memory
 * requests (tests).
 */
export function clientOf(c: Context): string {
  const env = c.env as { incoming?: IncomingMessage; server?: { incoming?: IncomingMessage } } | undefined;
  const incoming = env?.server?.incoming ?? env?.incoming;
  if (!incoming) return 'unknown';
  return forwarded.get(incoming) ?? plainAddress(incoming.socket?.remoteAddress ?? 'unknown');
}
