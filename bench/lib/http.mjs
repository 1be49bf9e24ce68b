/**
 * A lean HTTP client for the benchmarks (node:http with keep-alive): less client overhead than
 * fetch, so more of each measured millisecond belongs to the server.
 */
import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/**
 * @typedef {{ status: number, headers: import('node:http').IncomingHttpHeaders, body: string }} HttpResult
 */

/**
 * Sends one request and reads the whole answer.
 * @param {string} method
 * @param {string} url
 * @param {string} [body]
 * @param {Agent} [via] another agent than the shared one (which holds at most 256 connections)
 * @returns {Promise<HttpResult>}
 */
export function call(method, url, body, via = agent) {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      agent: via,
      headers: body ? { 'content-type': 'application/json' } : {},
    });
    req.on('response', (res) => {
      /** @type {Buffer[]} */
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * `POST /functions/:name/invoke`, sync or `?async=1`.
 * @param {string} base
 * @param {string} fn
 * @param {unknown} [event]
 * @param {{ async?: boolean, via?: Agent }} [o]
 */
export function invoke(base, fn, event = {}, { async = false, via = agent } = {}) {
  return call('POST', `${base}/functions/${fn}/invoke${async ? '?async=1' : ''}`, JSON.stringify(event), via);
}

/**
 * Runs `task(i)` for i in [0, total) with at most `concurrency` at once; resolves with the
 * number of tasks that threw (each failure is counted, not raised).
 * @param {number} total
 * @param {number} concurrency
 * @param {(i: number) => Promise<unknown>} task
 * @returns {Promise<number>}
 */
export async function bounded(total, concurrency, task) {
  let next = 0;
  let failed = 0;
  const lane = async () => {
    while (next < total) {
      const i = next++;
      await task(i).catch(() => failed++);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
  return failed;
}

/** Closes idle keep-alive sockets so the process can exit. */
export function closeHttp() {
  agent.destroy();
}
