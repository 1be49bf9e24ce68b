import { describe, expect, it } from 'vitest';
import type { PayloadFormat } from '../../src/triggers/webhook/event.js';
import { webhookResponse } from '../../src/triggers/webhook/response.js';

type Expected = { status: number; headers: Array<[string, string]>; body: string | null } | { bad: RegExp };

function check(format: PayloadFormat, value: unknown, expected: Expected): void {
  const r = webhookResponse(format, value);
  if ('bad' in expected) {
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(expected.bad);
    return;
  }
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  expect({
    status: r.status,
    headers: r.headers,
    body: r.body === null ? null : Buffer.from(r.body).toString('utf8'),
  }).toEqual(expected);
}

const JSON_TYPE: Array<[string, string]> = [['content-type', 'application/json']];

describe('payload 2.0 responses', () => {
  it.each([
    [
      'a bare string, as it is',
      'Hello from Lambda!',
      { status: 200, headers: JSON_TYPE, body: 'Hello from Lambda!' },
    ],
    [
      'an object without statusCode, as JSON',
      { message: 'hi' },
      { status: 200, headers: JSON_TYPE, body: '{"message":"hi"}' },
    ],
    ['a number, as JSON', 42, { status: 200, headers: JSON_TYPE, body: '42' }],
    ['an array, as JSON', [1, 2], { status: 200, headers: JSON_TYPE, body: '[1,2]' }],
    ['null (an undefined result), as JSON', null, { status: 200, headers: JSON_TYPE, body: 'null' }],
    [
      'a full response',
      { statusCode: 201, headers: { 'content-type': 'text/plain', 'x-n': 5 }, body: 'made' },
      {
        status: 201,
        headers: [
          ['content-type', 'text/plain'],
          ['x-n', '5'],
        ],
        body: 'made',
      },
    ],
    [
      'cookies as Set-Cookie headers; multiValueHeaders ignored',
      { statusCode: 200, cookies: ['a=1', 'b=2; HttpOnly'], multiValueHeaders: { 'x-m': ['1'] }, body: '' },
      {
        status: 200,
        headers: [
          ['set-cookie', 'a=1'],
          ['set-cookie', 'b=2; HttpOnly'],
        ],
        body: '',
      },
    ],
    [
      'a base64 body, decoded',
      { statusCode: 200, body: Buffer.from('bytes').toString('base64'), isBase64Encoded: true },
      { status: 200, headers: [], body: 'bytes' },
    ],
    ['no body', { statusCode: 204, body: 'ignored for 204' }, { status: 204, headers: [], body: null }],
    ['a status code that is no status', { statusCode: 99 }, { bad: /statusCode/ }],
    ['a status code as a string', { statusCode: '200' }, { bad: /statusCode/ }],
    ['a body that is not a string', { statusCode: 200, body: { a: 1 } }, { bad: /body must be a string/ }],
    ['headers that are not an object', { statusCode: 200, headers: ['x'] }, { bad: /headers/ }],
    ['cookies that are not strings', { statusCode: 200, cookies: [1] }, { bad: /cookies/ }],
  ] as Array<[string, unknown, Expected]>)('%s', (_what, value, expected) => check('2.0', value, expected));
});

describe('payload 1.0 responses', () => {
  it.each([
    [
      'a full response',
      { statusCode: 200, headers: { 'content-type': 'text/html' }, body: '<p>hi</p>' },
      { status: 200, headers: [['content-type', 'text/html']], body: '<p>hi</p>' },
    ],
    [
      'multiValueHeaders, merged with headers (multi-value wins on the same name)',
      {
        statusCode: 200,
        headers: { 'x-a': 'h', 'x-b': 'h' },
        multiValueHeaders: { 'x-a': ['m1', 'm2'] },
        body: '',
      },
      {
        status: 200,
        headers: [
          ['x-b', 'h'],
          ['x-a', 'm1'],
          ['x-a', 'm2'],
        ],
        body: '',
      },
    ],
    [
      'a base64 body, decoded',
      { statusCode: 200, body: Buffer.from('bin').toString('base64'), isBase64Encoded: true },
      { status: 200, headers: [], body: 'bin' },
    ],
    [
      'a null body',
      { statusCode: 302, headers: { location: '/x' }, body: null },
      { status: 302, headers: [['location', '/x']], body: null },
    ],
    ['a bare string: no inference in 1.0', 'Hello', { bad: /needs statusCode/ }],
    ['an object without statusCode', { message: 'hi' }, { bad: /needs statusCode/ }],
    ['null', null, { bad: /needs statusCode/ }],
    ['a body that is not a string', { statusCode: 200, body: { a: 1 } }, { bad: /body must be a string/ }],
    [
      'multiValueHeaders that are not arrays',
      { statusCode: 200, multiValueHeaders: { a: 'x' } },
      { bad: /multiValueHeaders/ },
    ],
  ] as Array<[string, unknown, Expected]>)('%s', (_what, value, expected) => check('1.0', value, expected));
});

describe('headers a handler cannot set', () => {
  it.each([
    [
      "framing and hop-by-hop headers, and the platform's invocation id, are dropped (2.0)",
      '2.0',
      {
        statusCode: 200,
        headers: {
          'Content-Length': '1',
          'transfer-encoding': 'chunked',
          Connection: 'close',
          'keep-alive': 'timeout=1',
          upgrade: 'h2c',
          te: 'trailers',
          trailer: 'x',
          'proxy-connection': 'close',
          'X-Faas-Invocation-Id': 'spoof',
          'x-kept': 'yes',
        },
        body: 'hello-SMUGGLED',
      },
      { status: 200, headers: [['x-kept', 'yes']], body: 'hello-SMUGGLED' },
    ],
    [
      'the same from multiValueHeaders (1.0)',
      '1.0',
      { statusCode: 200, multiValueHeaders: { 'content-length': ['1'], 'x-kept': ['a', 'b'] }, body: 'xy' },
      {
        status: 200,
        headers: [
          ['x-kept', 'a'],
          ['x-kept', 'b'],
        ],
        body: 'xy',
      },
    ],
    [
      'a line break in a value',
      '2.0',
      { statusCode: 200, headers: { 'x-bad': 'a\nb' } },
      { bad: /header x-bad has a line break or control character/ },
    ],
    [
      'a NUL in a multi value',
      '1.0',
      { statusCode: 200, multiValueHeaders: { 'x-bad': ['ok', 'a\u0000b'] } },
      { bad: /header x-bad has a line break or control character/ },
    ],
    [
      'a character beyond Latin-1',
      '2.0',
      { statusCode: 200, headers: { 'x-bad': 'price €' } },
      { bad: /header x-bad has a line break or control character/ },
    ],
    [
      'a space in a name',
      '2.0',
      { statusCode: 200, headers: { 'bad name': 'x' } },
      { bad: /header name "bad name" is not a valid HTTP header name/ },
    ],
    [
      'a line break in a cookie',
      '2.0',
      { statusCode: 200, cookies: ['a=1\r\nx-injected: 1'] },
      { bad: /header set-cookie has a line break/ },
    ],
  ] as Array<[string, PayloadFormat, unknown, Expected]>)('%s', (_what, format, value, expected) =>
    check(format, value, expected),
  );
});
