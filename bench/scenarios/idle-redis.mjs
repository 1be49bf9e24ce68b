/**
 * What an idle platform costs Redis: commands per second from INFO's counter over a quiet window,
 * and a MONITOR profile of the same platform's commands, grouped by command and key pattern, with
 * the commands that run inside each Lua script counted under the script's name.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { now, sleep } from '../lib/clock.mjs';
import { monitor } from '../lib/monitor.mjs';
import { ROOT } from '../lib/platform.mjs';
import { localPortsTo } from '../lib/redis-clients.mjs';

/**
 * Redis's count of commands processed (commands inside Lua scripts included).
 * @param {import('ioredis').Redis} redis
 */
async function totalCommands(redis) {
  return Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1]);
}

/**
 * Commands per second Redis processed over `ms` of quiet, less the measurer's own: the counter is
 * read by INFO on one connection, and each INFO is counted once it has run, so the second reading
 * includes exactly one command of ours (the first INFO). Everything else on the same Redis counts
 * too; `platformOnly` of {@link monitorProfile} is the platform's own share.
 * @param {import('ioredis').Redis} redis a connection nothing else uses during the window
 * @param {number} ms
 */
export async function idleCommandsPerS(redis, ms) {
  const a = await totalCommands(redis);
  const t0 = now();
  await sleep(ms);
  const b = await totalCommands(redis);
  return (b - a - 1) / ((now() - t0) / 1000);
}

/** sha1 of each BullMQ Lua script → its name, so EVALSHA lines read as what they do. */
async function bullmqScripts() {
  const dir = join(ROOT, 'node_modules', 'bullmq', 'dist', 'esm', 'scripts');
  /** @type {Map<string, string>} */
  const names = new Map();
  for (const f of await readdir(dir)) {
    if (!/-\d+\.js$/.test(f)) continue;
    const mod = await import(join(dir, f));
    for (const s of Object.values(mod))
      if (s && typeof s.content === 'string')
        names.set(createHash('sha1').update(s.content).digest('hex'), s.name);
  }
  return names;
}

const SCRIPT_CALLS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);
/** Commands whose arguments name no key: grouped by command alone. */
const KEYLESS = new Set(['ping', 'info', 'client', 'config', 'script', 'time', 'hello', 'select', 'command']);

/**
 * `command key-pattern` of one command, or `evalsha:<script> key-pattern` for a script call.
 * @param {string[]} args
 * @param {Map<string, string>} scripts
 * @param {(s: string) => string} generalize
 */
function shape(args, scripts, generalize) {
  const cmd = String(args[0]).toLowerCase();
  if (SCRIPT_CALLS.has(cmd)) {
    const sha = String(args[1]);
    const name = cmd.startsWith('evalsha') ? (scripts.get(sha) ?? sha.slice(0, 8)) : 'inline';
    const key = Number(args[2]) > 0 ? generalize(String(args[3])) : '';
    return { cmd, label: `${cmd}:${name} ${key}`.trim(), script: name };
  }
  if (KEYLESS.has(cmd) || args.length < 2)
    return { cmd, label: `${cmd} ${KEYLESS.has(cmd) ? (args[1] ?? '') : ''}`.trim() };
  return { cmd, label: `${cmd} ${generalize(String(args[1]))}` };
}

/**
 * Watches Redis with MONITOR for `ms` and keeps the commands of `pid`'s connections, grouped.
 * MONITOR shows a script call, then the commands it runs (source `lua`) right after it: those are
 * counted with the call that precedes them.
 * @param {import('ioredis').Redis} redis
 * @param {number} pid
 * @param {number} ms
 * @param {(s: string) => string} generalize replaces function names and ids by placeholders
 */
export async function monitorProfile(redis, pid, ms, generalize) {
  const scripts = await bullmqScripts();
  const redisPort = Number(redis.options.port ?? 6379);
  const ports = await localPortsTo(pid, redisPort);
  /** @type {Record<string, number>} */
  const top = {};
  /** @type {Record<string, number>} */
  const inScripts = {};
  let topCount = 0;
  let innerCount = 0;
  let others = 0;
  /** The script call whose inner commands MONITOR shows next, when it is the platform's. */
  /** @type {string | undefined} */
  let script;
  const t0 = now();
  const stop = await monitor(redis.options, (_time, args, source) => {
    if (source === 'lua') {
      if (script === undefined) return void others++;
      const s = shape(args, scripts, generalize);
      const label = `${script} → ${s.label}`;
      inScripts[label] = (inScripts[label] ?? 0) + 1;
      innerCount++;
      return;
    }
    const s = shape(args, scripts, generalize);
    const mine = ports.has(Number(source.split(':').at(-1)));
    script = mine && s.script ? `${s.cmd}:${s.script}` : undefined;
    if (!mine) return void others++;
    top[s.label] = (top[s.label] ?? 0) + 1;
    topCount++;
  });
  await sleep(ms);
  stop();
  const seconds = (now() - t0) / 1000;
  const perS = (/** @type {Record<string, number>} */ g) =>
    Object.fromEntries(
      Object.entries(g)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => [k, Number((v / seconds).toFixed(1))]),
    );
  return {
    seconds: Number(seconds.toFixed(2)),
    /** Commands per second the platform sent, and ran inside its scripts: what INFO would count. */
    platformOnly: (topCount + innerCount) / seconds,
    sentPerS: topCount / seconds,
    inScriptsPerS: innerCount / seconds,
    othersPerS: others / seconds,
    sent: perS(top),
    inScripts: perS(inScripts),
  };
}
