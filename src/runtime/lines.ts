import type { Socket } from 'node:net';

/** A line grew past the reader's limit before its newline came. */
export class LineTooLongError extends Error {
  override name = 'LineTooLongError';
}

/**
 * Calls `onLine` for each newline-terminated line read from `socket`; calls `onOverflow` (and
 * stops reading) when a line grows past `maxBytes`, so a peer cannot make us buffer without end.
 * Stops calling `onLine` once the socket is destroyed (a caller that refuses a line destroys it).
 */
export function readLines(
  socket: Socket,
  maxBytes: number,
  onLine: (line: string) => void,
  onOverflow: () => void,
): void {
  let parts: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer): void => {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      parts.push(chunk.subarray(start, nl));
      const line = Buffer.concat(parts).toString('utf8');
      parts = [];
      size = 0;
      start = nl + 1;
      if (socket.destroyed) return;
      onLine(line);
    }
    if (start < chunk.length) {
      parts.push(chunk.subarray(start));
      size += chunk.length - start;
      if (size > maxBytes) {
        socket.off('data', onData);
        onOverflow();
      }
    }
  };
  socket.on('data', onData);
}

/**
 * Reads one newline-terminated line from the front of `socket` and leaves every byte after it
 * unread (paused), for connections that start with a JSON header and continue with raw bytes.
 */
export function readFirstLine(socket: Socket, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = (err?: Error, line?: string): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(line ?? '');
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(10);
      if (nl === -1) {
        if (buf.length > maxBytes) done(new LineTooLongError(`header line longer than ${maxBytes} bytes`));
        return;
      }
      socket.pause();
      const rest = buf.subarray(nl + 1);
      if (rest.length > 0) socket.unshift(rest);
      done(undefined, buf.subarray(0, nl).toString('utf8'));
    };
    const onEnd = (err?: Error): void => done(err ?? new Error('connection closed before a header line'));
    // A socket destroyed on our side emits neither 'end' nor 'error'.
    const onClose = (): void => onEnd();
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onEnd);
    socket.on('close', onClose);
  });
}
