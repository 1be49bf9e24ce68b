import type { Socket } from 'node:net';

/**
 * Calls `onLine` for each newline-terminated line read from `socket`; calls `onOverflow` (and
 * stops reading) when a line grows past `maxBytes`, so a peer cannot make us buffer without end.
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
