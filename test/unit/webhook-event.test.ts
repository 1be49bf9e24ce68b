import { describe, expect, it } from 'vitest';
import { clfTime, isTextual, type WebhookRequest } from '../../src/triggers/webhook/event.js';
import { apiGatewayV1Event } from '../../src/triggers/webhook/event-v1.js';
import { apiGatewayV2Event } from '../../src/triggers/webhook/event-v2.js';

const T = Date.UTC(2020, 2, 12, 19, 3, 58, 390);

function request(over: Partial<WebhookRequest> = {}): WebhookRequest {
  return {
    method: 'POST',
    path: '/hooks/x',
    rawQuery: '',
    headers: [
      ['Host', 'hooks.example.com:8080'],
      ['User-Agent', 'curl/8'],
    ],
    body: Buffer.alloc(0),
    route: '/hooks/x',
    sourceIp: '203.0.113.9',
    protocol: 'HTTP/1.1',
    requestId: 'req-1',
    timeMs: T,
    ...over,
  };
}

describe('payload format 2.0', () => {
  it('has the documented fields, and leaves out the empty ones as AWS does', () => {
    expect(apiGatewayV2Event(request())).toEqual({
      version: '2.0',
      routeKey: 'POST /hooks/x',
      rawPath: '/hooks/x',
      rawQueryString: '',
      headers: { host: 'hooks.example.com:8080', 'user-agent': 'curl/8' },
      requestContext: {
        accountId: '000000000000',
        apiId: 'faas',
        domainName: 'hooks.example.com:8080',
        domainPrefix: 'hooks',
        http: {
          method: 'POST',
          path: '/hooks/x',
          protocol: 'HTTP/1.1',
          sourceIp: '203.0.113.9',
          userAgent: 'curl/8',
        },
        requestId: 'req-1',
        routeKey: 'POST /hooks/x',
        stage: '$default',
        time: '12/Mar/2020:19:03:58 +0000',
        timeEpoch: T,
      },
      isBase64Encoded: false,
    });
  });

  it.each([
    [
      'repeated headers, joined with commas, names lower-cased',
      [
        ['X-Tag', 'a'],
        ['x-tag', 'b'],
      ],
      { 'x-tag': 'a,b' },
      undefined,
    ],
    [
      'cookies split out of every cookie header',
      [
        ['Cookie', 'a=1; b=2'],
        ['cookie', 'c=3'],
      ],
      {},
      ['a=1', 'b=2', 'c=3'],
    ],
  ] as Array<[string, Array<[string, string]>, Record<string, string>, string[] | undefined]>)(
    '%s',
    (_what, headers, expected, cookies) => {
      const event = apiGatewayV2Event(request({ headers }));
      expect(event.headers).toEqual(expected);
      expect(event.cookies).toEqual(cookies);
    },
  );

  it.each([
    ['a=1&a=2&b=x', { a: '1,2', b: 'x' }],
    ['name=J%C3%BCrgen+M&empty=&flag', { name: 'Jürgen M', empty: '', flag: '' }],
    ['q=a%26b%3Dc', { q: 'a&b=c' }],
  ])('query %j: decoded, repeats joined with commas; rawQueryString as sent', (raw, params) => {
    const event = apiGatewayV2Event(request({ rawQuery: raw }));
    expect(event.rawQueryString).toBe(raw);
    expect(event.queryStringParameters).toEqual(params);
  });

  it.each([
    ['application/json', '{"a":1}', false],
    ['text/plain; charset=utf-8', 'héllo', false],
    ['application/x-www-form-urlencoded', 'a=1&b=2', false],
    [undefined, 'no type', false],
    ['application/octet-stream', 'bytes', true],
    ['image/png', '\u0089PNG', true],
    ['multipart/form-data; boundary=x', '--x', true],
  ])('a %s body is text unless binary (base64 then)', (type, text, binary) => {
    const body = Buffer.from(text, 'utf8');
    const headers: Array<[string, string]> = type ? [['content-type', type]] : [];
    const event = apiGatewayV2Event(request({ headers, body }));
    expect(event.isBase64Encoded).toBe(binary);
    expect(event.body).toBe(binary ? body.toString('base64') : text);
  });

  it('a text content type whose bytes are not UTF-8 is sent as base64', () => {
    const body = Buffer.from([0xff, 0xfe, 0x00]);
    const event = apiGatewayV2Event(request({ headers: [['content-type', 'text/plain']], body }));
    expect(event).toMatchObject({ body: body.toString('base64'), isBase64Encoded: true });
  });
});

describe('payload format 1.0', () => {
  it('has the documented fields, nulls for what is empty', () => {
    const event = apiGatewayV1Event(request({ method: 'GET' }));
    expect(event).toMatchObject({
      version: '1.0',
      resource: '/hooks/x',
      path: '/hooks/x',
      httpMethod: 'GET',
      headers: { host: 'hooks.example.com:8080', 'user-agent': 'curl/8' },
      multiValueHeaders: { host: ['hooks.example.com:8080'], 'user-agent': ['curl/8'] },
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      body: null,
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'faas',
        httpMethod: 'GET',
        path: '/hooks/x',
        protocol: 'HTTP/1.1',
        requestId: 'req-1',
        requestTime: '12/Mar/2020:19:03:58 +0000',
        requestTimeEpoch: T,
        resourcePath: '/hooks/x',
        stage: '$default',
        identity: { sourceIp: '203.0.113.9', userAgent: 'curl/8', user: null },
      },
    });
    expect(JSON.parse(JSON.stringify(event)).requestContext).not.toHaveProperty('authorizer');
  });

  it('repeated headers and parameters: the last in the single-value maps, all in the multi-value ones', () => {
    const event = apiGatewayV1Event(
      request({
        headers: [
          ['X-Tag', 'a'],
          ['x-tag', 'b'],
          ['Cookie', 'a=1; b=2'],
        ],
        rawQuery: 'a=1&a=2&s=x+y',
      }),
    );
    expect(event.headers).toEqual({ 'x-tag': 'b', cookie: 'a=1; b=2' });
    expect(event.multiValueHeaders).toEqual({ 'x-tag': ['a', 'b'], cookie: ['a=1; b=2'] });
    expect(event.queryStringParameters).toEqual({ a: '2', s: 'x y' });
    expect(event.multiValueQueryStringParameters).toEqual({ a: ['1', '2'], s: ['x y'] });
  });

  it('a binary body is base64', () => {
    const body = Buffer.from([1, 2, 3, 250]);
    const event = apiGatewayV1Event(request({ headers: [['content-type', 'application/pdf']], body }));
    expect(event).toMatchObject({ body: body.toString('base64'), isBase64Encoded: true });
  });
});

describe('helpers', () => {
  it.each([
    ['application/vnd.api+json', true],
    ['application/atom+xml; charset=utf-8', true],
    ['application/javascript', true],
    ['application/yaml', true],
    ['application/jsonx', false],
    ['application/zip', false],
    ['', true],
  ])('isTextual(%j) is %s', (type, text) => expect(isTextual(type)).toBe(text));

  it('clfTime pads every field', () => {
    expect(clfTime(Date.UTC(2021, 0, 2, 3, 4, 5))).toBe('02/Jan/2021:03:04:05 +0000');
  });
});
