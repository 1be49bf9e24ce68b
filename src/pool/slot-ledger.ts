/**
 * The ledger of each function's containers on Redis (see cluster-cap.ts): one hash per function
 * and cluster, `faas:slots:<cluster>:fn.<name>` (`…:{fn.<name>}` on a Redis Cluster: the slot of
 * the function's queue), with one field per host, `"<count> <want> <expires at>"`. One script
 * reads the lines, drops the lapsed ones, grants and writes this host's line, atomically; it
 * reads Redis's own clock, so hosts' clocks need not agree.
 */
import type { Redis } from 'ioredis';
import { queueName } from '../queue/names.js';
import type { HostSlots, SlotAnswer, SlotLedger, SlotRequest } from './cluster-cap.js';

/** A host's line lapses this long after its last renewal: the 10 s after which a host is down. */
export const SLOT_TTL_MS = 10_000;

const SYNC = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local host = ARGV[1]
local held = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local ask = tonumber(ARGV[4])
local max = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local others = 0
local seen = {}
local lines = redis.call('HGETALL', KEYS[1])
for i = 1, #lines, 2 do
  local id = lines[i]
  if id ~= host then
    local count, w, exp = string.match(lines[i + 1], '^(%d+) (%d+) (%d+)$')
    if count == nil or tonumber(exp) <= now then
      redis.call('HDEL', KEYS[1], id)
    else
      others = others + tonumber(count)
      seen[#seen + 1] = id
      seen[#seen + 1] = count
      seen[#seen + 1] = w
    end
  end
end
local granted = math.max(0, math.min(ask, max - others - held))
local count = held + granted
if count == 0 and want == 0 then
  redis.call('HDEL', KEYS[1], host)
else
  redis.call('HSET', KEYS[1], host, string.format('%d %d %d', count, want, now + ttl))
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return {granted, seen}
`;

/** The ledger key of a function in a cluster. */
export function slotKey(cluster: string, fn: string): string {
  return `faas:slots:${cluster}:${queueName(fn)}`;
}

type SyncCommand = (key: string, ...args: Array<string | number>) => Promise<[number, string[]]>;

/**
 * This host's view of the Redis ledger.
 * @example const ledger = new RedisSlotLedger(redis, config.FAAS_CLUSTER, instance);
 */
export class RedisSlotLedger implements SlotLedger {
  private readonly run: SyncCommand;

  constructor(
    redis: Redis,
    private readonly cluster: string,
    private readonly host: string,
    private readonly ttlMs = SLOT_TTL_MS,
  ) {
    redis.defineCommand('faasSlotSync', { numberOfKeys: 1, lua: SYNC });
    this.run = (redis as unknown as { faasSlotSync: SyncCommand }).faasSlotSync.bind(redis);
  }

  async sync(fn: string, req: SlotRequest): Promise<SlotAnswer> {
    const [granted, flat] = await this.run(
      slotKey(this.cluster, fn),
      this.host,
      req.held,
      req.want,
      req.ask,
      req.max,
      this.ttlMs,
    );
    const others: HostSlots[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      others.push({ host: flat[i] as string, count: Number(flat[i + 1]), want: Number(flat[i + 2]) });
    }
    return { granted: Number(granted), others };
  }
}
