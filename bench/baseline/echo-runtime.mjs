// The least a function runtime can do, for the benchmark's container floor (see bare.mjs): read
// each invocation line from the host's socket, parse it, and answer it; the answers to the lines
// of one read go back in one write.
import { connect } from 'node:net';

const socket = connect(/** @type {string} */ (process.argv[2]));
socket.setNoDelay(true);
let rest = '';
socket.on('data', (chunk) => {
  const lines = (rest + chunk).split('\n');
  rest = lines.pop() ?? '';
  let out = '';
  for (const line of lines) {
    const { id } = JSON.parse(line);
    out += `{"t":"result","id":${JSON.stringify(id)},"ok":true,"value":null}\n`;
  }
  if (out) socket.write(out);
});
socket.on('close', () => process.exit(0));
