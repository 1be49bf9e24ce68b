import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { UserError } from '../util/user-error.js';

/**
 * The registry's Redis keys under `namespace` (`faas` in production; tests use their own). Every
 * key shares one hash tag, so a deploy of many functions is one atomic script even on Redis
 * Cluster (the registry is small and written rarely: one slot is plenty).
 */
export function deployKeys(namespace = 'faas') {
  const tag = `${namespace}:{deploy}`;
  return {
    tag,
    /** Names of the functions that have a current version. */
    functions: `${tag}:functions`,
    /** Bumped by every change; processes compare it to know they are up to date. */
    epoch: `${tag}:epoch`,
    /** Hash per function: `seq`, `current`, and `v<N>` (record) / `d<N>` (digest) per version. */
    fn: (name: string) => `${tag}:fn:${name}`,
    /** Pub/sub channel told the new epoch after every change. */
    channel: `${namespace}:deploy`,
    /** Held while a deploy or rollback checks the functions current and applies its change. */
    lock: `${tag}:lock`,
  };
}

/** One version of a function as deployed: its code by hash and its settings and triggers. */
export interface VersionRecord {
  version: number;
  /** sha256 of the bundle in the code store. */
  hash: string;
  /** The function's validated settings and triggers, as JSON (no paths of the deployer's disk). */
  spec: unknown;
  deployedAt: number;
  deployedBy: string;
  /** The manifest file it came from, as the deployer named it. */
  manifest?: string;
}

export type DeployAction = 'created' | 'updated' | 'unchanged' | 'removed';

export interface DeployResult {
  name: string;
  action: DeployAction;
  /** The function's current version after the deploy (0 once removed). */
  version: number;
}

/** What a version's identity is made of: same code and same settings is the same version. */
export function versionDigest(hash: string, spec: unknown): string {
  return createHash('sha256').update(hash).update('\n').update(canonicalJson(spec)).digest('hex');
}

/** JSON with object keys sorted, so equal settings give equal digests whatever their order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

// KEYS: functions set, epoch. ARGV: changes JSON [{name, digest, record}], prune (0|1), channel.
const DEPLOY = (tag: string) => `
local changes = cjson.decode(ARGV[1])
local out = {}
local named = {}
local changed = false
for _, c in ipairs(changes) do
  named[c.name] = true
  local key = '${tag}:fn:' .. c.name
  local cur = tonumber(redis.call('HGET', key, 'current') or '0')
  if cur > 0 and redis.call('HGET', key, 'd' .. cur) == c.digest then
    out[#out + 1] = {c.name, 'unchanged', cur}
  else
    local n = redis.call('HINCRBY', key, 'seq', 1)
    redis.call('HSET', key, 'v' .. n, c.record, 'd' .. n, c.digest, 'current', n)
    redis.call('SADD', KEYS[1], c.name)
    out[#out + 1] = {c.name, cur > 0 and 'updated' or 'created', n}
    changed = true
  end
end
if ARGV[2] == '1' then
  for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if not named[name] then
      redis.call('HSET', '${tag}:fn:' .. name, 'current', 0)
      redis.call('SREM', KEYS[1], name)
      out[#out + 1] = {name, 'removed', 0}
      changed = true
    end
  end
end
if changed then
  local epoch = redis.call('INCR', KEYS[2])
  redis.call('PUBLISH', ARGV[3], epoch)
end
return cjson.encode(out)
`;

// KEYS: functions set, epoch, the function's hash. ARGV: target version (0: remove), channel.
const POINT = `
local n = tonumber(ARGV[1])
if n > 0 and redis.call('HEXISTS', KEYS[3], 'v' .. n) == 0 then return -1 end
if tonumber(redis.call('HGET', KEYS[3], 'current') or '0') == n then return n end
redis.call('HSET', KEYS[3], 'current', n)
if n > 0 then redis.call('SADD', KEYS[1], ARGV[3]) else redis.call('SREM', KEYS[1], ARGV[3]) end
local epoch = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[2], epoch)
return n
`;

// KEYS: functions set, epoch. Returns the epoch and every current record, read at one instant.
const CURRENT = (tag: string) => `
local out = {redis.call('GET', KEYS[2]) or '0'}
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = '${tag}:fn:' .. name
  local cur = redis.call('HGET', key, 'current')
  if cur and cur ~= '0' then
    out[#out + 1] = name
    out[#out + 1] = cur
    out[#out + 1] = redis.call('HGET', key, 'v' .. cur)
  end
end
return out
`;

// KEYS: the lock. ARGV: the holder's token. Releases the lock only if this holder still has it.
const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

// KEYS: the lock. ARGV: the holder's token, ms. Extends the lock only if this holder still has it.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** A lock not renewed for this long is free (its holder died). */
const LOCK_MS = 15_000;
/** How often a holder renews the lock while its change runs. */
const RENEW_MS = 5_000;
/** Longest a change waits for another one to finish: longer than a dead holder's lock lasts. */
const LOCK_WAIT_MS = 45_000;

/** Raised for a rollback to a version that does not exist, or of a function never deployed. */
export class UnknownVersion extends Error {
  override name = 'UnknownVersion';
}

/** Raised when another deploy of the cluster held the lock for too long. */
export class DeployBusy extends UserError {
  override name = 'DeployBusy';
}

/**
 * The deployed versions of every function, in Redis: numbered per function, each with its code
 * hash, settings and triggers, and a `current` pointer that deploys, rollbacks and removals move
 * atomically. Every change bumps an epoch and publishes it, so each platform process can tell
 * at once that it must re-read, and can check cheaply that it has not missed one.
 */
export class VersionRegistry {
  private readonly keys: ReturnType<typeof deployKeys>;

  constructor(
    private readonly redis: Redis,
    namespace = 'faas',
  ) {
    this.keys = deployKeys(namespace);
  }

  /** The pub/sub channel that carries each new epoch. */
  get channel(): string {
    return this.keys.channel;
  }

  /**
   * Records a new version of each function whose code or settings differ from its current one
   * (an unchanged function keeps its version); with `prune`, functions not named lose their
   * current version. All of it at once: a process sees the deploy whole or not at all.
   */
  async deploy(
    functions: Array<Omit<VersionRecord, 'version'> & { name: string }>,
    prune: boolean,
  ): Promise<DeployResult[]> {
    const changes = functions.map(({ name, ...record }) => ({
      name,
      digest: versionDigest(record.hash, record.spec),
      record: JSON.stringify(record),
    }));
    const raw = (await this.redis.eval(
      DEPLOY(this.keys.tag),
      2,
      this.keys.functions,
      this.keys.epoch,
      // cjson encodes an empty Lua table as an object: an empty deploy sends an empty array itself.
      changes.length ? JSON.stringify(changes) : '[]',
      prune ? '1' : '0',
      this.keys.channel,
    )) as string;
    const rows = raw === '{}' ? [] : (JSON.parse(raw) as Array<[string, DeployAction, number]>);
    return rows.map(([name, action, version]) => ({ name, action, version }));
  }

  /**
   * Runs `change` while no other deploy, rollback or removal of this cluster runs (on any
   * process): what it checks against the functions current is still true when it applies.
   */
  async exclusive<T>(change: () => Promise<T>): Promise<T> {
    const token = randomUUID();
    const deadline = Date.now() + LOCK_WAIT_MS;
    while ((await this.redis.set(this.keys.lock, token, 'PX', LOCK_MS, 'NX')) !== 'OK') {
      if (Date.now() > deadline)
        throw new DeployBusy(
          `another deploy of this cluster has held the deploy lock for ${LOCK_WAIT_MS / 1000} s`,
          'try again',
        );
      await new Promise((r) => setTimeout(r, 50));
    }
    // Held as long as the change runs, however long; a holder that dies frees it within LOCK_MS.
    const renew = setInterval(() => {
      this.redis.eval(RENEW, 1, this.keys.lock, token, String(LOCK_MS)).catch(() => undefined);
    }, RENEW_MS);
    try {
      return await change();
    } finally {
      clearInterval(renew);
      await this.redis.eval(UNLOCK, 1, this.keys.lock, token).catch(() => undefined);
    }
  }

  /**
   * The version a rollback of `name` makes current: `to`, or the newest version older than the
   * current one.
   * @throws UnknownVersion when there is none
   */
  async rollbackTarget(name: string, to?: number): Promise<VersionRecord> {
    const versions = await this.list(name);
    const current = await this.currentVersion(name);
    const target =
      to === undefined
        ? versions.filter((v) => current === 0 || v.version < current).at(-1)
        : versions.find((v) => v.version === to);
    if (target) return target;
    if (versions.length === 0) throw new UnknownVersion(`function ${name} has never been deployed`);
    if (to !== undefined) throw new UnknownVersion(`function ${name} has no version ${to}`);
    throw new UnknownVersion(`function ${name} has no version older than ${current} to roll back to`);
  }

  /** Makes version `to` current (default: the newest version older than the current one). */
  async rollback(name: string, to?: number): Promise<number> {
    const target = await this.rollbackTarget(name, to);
    const n = await this.point(name, target.version);
    if (n < 0) throw new UnknownVersion(`function ${name} has no version ${target.version}`);
    return n;
  }

  /** Removes a function: it has no current version (its versions stay, for a later rollback). */
  async remove(name: string): Promise<boolean> {
    const current = await this.currentVersion(name);
    if (current === 0) return false;
    await this.point(name, 0);
    return true;
  }

  private async point(name: string, version: number): Promise<number> {
    return (await this.redis.eval(
      POINT,
      3,
      this.keys.functions,
      this.keys.epoch,
      this.keys.fn(name),
      String(version),
      this.keys.channel,
      name,
    )) as number;
  }

  /** The function's current version number; 0 when it has none. */
  async currentVersion(name: string): Promise<number> {
    return Number((await this.redis.hget(this.keys.fn(name), 'current')) ?? 0);
  }

  /** Every version of a function, oldest first. */
  async list(name: string): Promise<VersionRecord[]> {
    const all = await this.redis.hgetall(this.keys.fn(name));
    return Object.entries(all)
      .filter(([field]) => /^v\d+$/.test(field))
      .map(([field, json]) => ({
        ...(JSON.parse(json) as Omit<VersionRecord, 'version'>),
        version: Number(field.slice(1)),
      }))
      .sort((a, b) => a.version - b.version);
  }

  /** The epoch and the current version of every deployed function, read atomically. */
  async current(): Promise<{ epoch: number; versions: Map<string, VersionRecord> }> {
    const [epoch, ...rest] = (await this.redis.eval(
      CURRENT(this.keys.tag),
      2,
      this.keys.functions,
      this.keys.epoch,
    )) as string[];
    const versions = new Map<string, VersionRecord>();
    for (let i = 0; i + 2 < rest.length; i += 3) {
      const record = JSON.parse(rest[i + 2] as string) as Omit<VersionRecord, 'version'>;
      versions.set(rest[i] as string, { ...record, version: Number(rest[i + 1]) });
    }
    return { epoch: Number(epoch), versions };
  }

  /** The epoch alone: one cheap read to learn whether anything changed. */
  async epoch(): Promise<number> {
    return Number((await this.redis.get(this.keys.epoch)) ?? 0);
  }
}
