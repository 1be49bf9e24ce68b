/** runScript on real Redis: by hash when Redis has the script, by its text after a flush. */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { luaScript, runScript } from '../../src/queue/lua.js';
import { requireRedis, uniqueName } from '../helpers/services.js';

describe('runScript', () => {
  let redis: Redis;
  const key = uniqueName('faas-test-lua');
  // A script of its own (the key's name is in its text): Redis has not seen it yet.
  const script = luaScript(`-- ${key}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`);

  beforeAll(async () => {
    redis = await requireRedis();
  });
  afterAll(async () => {
    await redis.del(key);
    await redis.quit();
  });

  it('sends the script when Redis lacks it, then runs it by its hash', async () => {
    expect(await redis.script('EXISTS', script.sha)).toEqual([0]);
    expect(await runScript(redis, script, 1, key, '2')).toBe(2);
    expect(await redis.script('EXISTS', script.sha)).toEqual([1]);
    expect(await runScript(redis, script, 1, key, '3')).toBe(5);
  });

  it('passes on errors other than a missing script', async () => {
    await redis.set(key, 'not a number');
    await expect(runScript(redis, script, 1, key, '1')).rejects.toThrow(/not an integer/);
  });
});
