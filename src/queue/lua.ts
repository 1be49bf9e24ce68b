import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** A Lua script and its SHA-1, computed once. */
export interface LuaScript {
  lua: string;
  sha: string;
}

export function luaScript(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * Runs a script by its hash, and sends the script itself only when Redis lacks it (after a
 * restart or a `SCRIPT FLUSH`). The command is written before this returns.
 */
export function runScript(
  redis: Redis | Cluster,
  script: LuaScript,
  numKeys: number,
  ...args: string[]
): Promise<unknown> {
  return redis.evalsha(script.sha, numKeys, ...args).catch((err: Error) => {
    if (!err.message.startsWith('NOSCRIPT')) throw err;
    return redis.eval(script.lua, numKeys, ...args);
  });
}

/**
 * Runs a script by sending its text (Redis hashes it and runs the copy it has compiled): for a
 * script that must run before the commands sent behind it, which a NOSCRIPT retry would put after
 * them.
 */
export function evalScript(
  redis: Redis | Cluster,
  script: LuaScript,
  numKeys: number,
  ...args: string[]
): Promise<unknown> {
  return redis.eval(script.lua, numKeys, ...args);
}
