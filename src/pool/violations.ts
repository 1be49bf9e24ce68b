import type { WireError } from '../runtime/protocol.js';

/**
 * Why a runtime's message was refused. A fixed set, so that it can label a metric; the details
 * of one case go to the log line beside it.
 */
export type ViolationReason =
  | 'bad-json' // not JSON at all
  | 'not-an-object' // JSON, but null, a number, a string or an array
  | 'unknown-type' // an object without a known `t`
  | 'bad-fields' // a known `t` with missing, extra or wrongly typed fields
  | 'oversized' // a result past MAX_RESULT_BYTES
  | 'line-too-long' // a line past MAX_LINE_BYTES
  | 'log-budget' // logs past MAX_LOG_BYTES for one invocation
  | 'unknown-invocation' // an id never sent to this container
  | 'out-of-order' // a second hello, `ready` with no init pending, a result twice
  | 'bad-stream-header' // a stream connection whose header does not parse
  | 'not-a-stream' // a second connection that is not a stream
  | 'unhandled'; // the host failed on a message (a host bug): the container goes, to be safe

/** One refused message: why, and a short printable description (never the raw bytes). */
export interface Violation {
  reason: ViolationReason;
  detail: string;
}

/** The failure each invocation on a container that broke the protocol ends with. */
export function protocolError(v: Violation): WireError {
  return {
    kind: 'protocol',
    name: 'ProtocolError',
    message: `the function's runtime sent a message the platform refuses (${v.reason}: ${v.detail}); its container was replaced`,
  };
}
