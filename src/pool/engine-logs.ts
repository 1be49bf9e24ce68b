/**
 * A container's output as the engine sends it without a TTY: frames of an 8-byte header (stream
 * type, 3 zero bytes, payload size as uint32 big-endian) and the payload. The output is the
 * container's, so untrusted: whatever its size, only the end is kept.
 */

const HEADER = 8;

/** Joins the payloads of Docker's multiplexed log format (8-byte frame headers). */
export function demux(raw: Buffer): string {
  const tail = new LogTail(Number.MAX_SAFE_INTEGER);
  tail.push(raw);
  return tail.text();
}

/**
 * Takes a multiplexed stream chunk by chunk (frames split anywhere) and keeps the last
 * `maxBytes` bytes of the payloads.
 */
export class LogTail {
  private kept: Buffer[] = [];
  private keptBytes = 0;
  /** The start of a header cut by a chunk boundary. */
  private header = Buffer.alloc(0);
  /** Payload bytes still to come in the current frame. */
  private remaining = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - offset);
        this.keep(chunk.subarray(offset, offset + n));
        this.remaining -= n;
        offset += n;
        continue;
      }
      const need = HEADER - this.header.length;
      const part = chunk.subarray(offset, offset + need);
      offset += part.length;
      this.header = Buffer.concat([this.header, part]);
      if (this.header.length < HEADER) return;
      this.remaining = this.header.readUInt32BE(4);
      this.header = Buffer.alloc(0);
    }
  }

  /** The kept output as text (a character cut at the start shows as U+FFFD). */
  text(): string {
    return Buffer.concat(this.kept).toString('utf8');
  }

  private keep(payload: Buffer): void {
    // Copied: a kept slice would hold the whole chunk it came from.
    this.kept.push(Buffer.from(payload));
    this.keptBytes += payload.length;
    while (this.keptBytes > this.maxBytes) {
      const first = this.kept[0] as Buffer;
      const excess = this.keptBytes - this.maxBytes;
      if (first.length <= excess) {
        this.kept.shift();
        this.keptBytes -= first.length;
      } else {
        this.kept[0] = first.subarray(excess);
        this.keptBytes -= excess;
      }
    }
  }
}
