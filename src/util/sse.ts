/**
 * Splits a server-sent event stream into events, fed text as it arrives in chunks of any size.
 * Shared by the CLI (`faas logs --follow`) and the web console, which read the stream with
 * fetch so the bearer token travels in a header.
 * @example const feed = sseParser((event, data) => console.log(event, data)); feed('event: a\ndata: 1\n\n');
 */
export function sseParser(onEvent: (event: string, data: string) => void): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk.replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) onEvent(event, data.join('\n'));
    }
  };
}

/**
 * Reads a fetch response's body as server-sent events until it ends.
 * @example await readEvents(res.body, (event, data) => ...);
 */
export async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: string, data: string) => void,
): Promise<void> {
  const feed = sseParser(onEvent);
  const reader = body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    feed(decoder.decode(value, { stream: true }));
  }
}
