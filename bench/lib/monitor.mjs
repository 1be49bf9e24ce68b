/**
 * Redis MONITOR over a plain socket. ioredis's monitor mode can take MONITOR lines still in flight
 * at disconnect for stray replies and raise "Command queue state error" on an emitter that has
 * no handler, which ends the process; a socket that is simply destroyed cannot.
 */
import { connect } from 'node:net';

/**
 * The arguments of one MONITOR line: `"set" "k" "v\"x"` → ['set', 'k', 'v"x'].
 * @param {string} s the part after `] `
 * @returns {string[]}
 */
export function monitorArgs(s) {
  const out = [];
  const re = /"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(s); m; m = re.exec(s))
    out.push(
      m[1].replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e) =>
        e[0] === 'x' && e.length === 3
          ? String.fromCharCode(parseInt(e.slice(1), 16))
          : ({ n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' }[e] ?? e),
      ),
    );
  return out;
}

/**
 * Starts MONITOR and calls `onCommand(time, args, source)` for each command Redis runs; `source`
 * is the client's `ip:port`, or `lua` for a command a script ran. Resolves once Redis has
 * accepted MONITOR, with a function that stops it.
 * @param {{ host?: string, port?: number, password?: string, username?: string }} at
 * @param {(time: number, args: string[], source: string) => void} onCommand
 * @returns {Promise<() => void>}
 */
export function monitor(at, onCommand) {
  return new Promise((resolve, reject) => {
    const socket = connect(at.port ?? 6379, at.host ?? '127.0.0.1');
    let buffer = '';
    // +OK for AUTH (when sent) and for MONITOR; commands follow.
    let oks = at.password ? 2 : 1;
    const stop = () => socket.destroy();
    socket.setEncoding('utf8');
    socket.once('error', reject);
    socket.on('connect', () => {
      if (at.password) socket.write(`AUTH ${at.username ? `${at.username} ` : ''}${at.password}\r\n`);
      socket.write('MONITOR\r\n');
    });
    socket.on('data', (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        if (line.startsWith('-')) return reject(new Error(`MONITOR refused: ${line.slice(1)}`));
        if (oks > 0) {
          if (line === '+OK' && --oks === 0) {
            socket.removeListener('error', reject);
            socket.on('error', () => undefined);
            resolve(stop);
          }
          continue;
        }
        const m = /^\+([\d.]+) \[\d+ ([^\]]+)\] (.*)$/.exec(line);
        if (m) onCommand(Number(m[1]), monitorArgs(m[3]), m[2]);
      }
    });
  });
}
