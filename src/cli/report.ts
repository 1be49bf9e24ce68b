import { ManifestError, type Problem, formatProblem } from '../manifest/errors.js';
import { UserError } from '../util/user-error.js';

/** Socket errors that mean "nothing answers there": a service that is not running. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);

/**
 * The lines to print for an error that ended a command, and whether it is a bug. A user error is
 * one line (a manifest's problems one line each, then a summary); anything else is a bug: its
 * message, a line asking for a report, and the stack only when `debug` asks for it.
 * @example for (const line of describeError(err, false).lines) console.error(line);
 */
export function describeError(
  err: unknown,
  debug: boolean,
  /** What a refused manifest did not do, for its summary line. */
  notDone = 'nothing started',
): { lines: string[]; bug: boolean } {
  const described = describe(err, debug, notDone);
  // With --debug every error shows where it came from; a bug's stack is already there.
  if (debug && !described.bug && err instanceof Error && err.stack) described.lines.push(err.stack);
  return described;
}

function describe(err: unknown, debug: boolean, notDone: string): { lines: string[]; bug: boolean } {
  if (err instanceof ManifestError) {
    const n = err.problems.length;
    return {
      lines: [
        ...err.problems.map((p) => `${where(err.file, p)} ${oneLine(formatProblem(p))}`),
        `✗ ${err.file}: ${n} problem${n === 1 ? '' : 's'}, ${notDone}: fix ${n === 1 ? 'it' : 'them'}, then check with \`faas validate\``,
      ],
      bug: false,
    };
  }
  if (err instanceof UserError) return { lines: [`faas: ${oneLine(err.message)}`], bug: false };
  const socket = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (socket?.code && UNREACHABLE.has(socket.code)) {
    const at = socket.address ? ` at ${socket.address}${socket.port ? `:${socket.port}` : ''}` : '';
    return {
      lines: [
        `faas: nothing answers${at} (${socket.code}): start the service that should (\`npm run services:up\` starts the local ones), or fix the setting that points there`,
      ],
      bug: false,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  const stack = debug && err instanceof Error && err.stack ? [err.stack] : [];
  return {
    lines: [
      `faas: unexpected error: ${oneLine(message)}`,
      'faas: this is a bug: please report it with the command you ran (FAAS_DEBUG=1 or --debug prints the stack)',
      ...stack,
    ],
    bug: true,
  };
}

/** `file:line:column:` of a manifest problem, or `file:` when it has no position. */
export function where(file: string, p: Problem): string {
  return p.line === undefined ? `${file}:` : `${file}:${p.line}:${p.column ?? 1}:`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ');
}
