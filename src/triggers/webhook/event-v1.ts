import type { APIGatewayProxyEvent } from 'aws-lambda';
import {
  ACCOUNT_ID,
  API_ID,
  clfTime,
  domainPrefix,
  eventBody,
  groupHeaders,
  groupQuery,
  type WebhookRequest,
} from './event.js';

const last = (values: string[]): string => values[values.length - 1] ?? '';

/**
 * The event of API Gateway's payload format 1.0 (REST APIs' Lambda proxy integration): `headers`
 * and `queryStringParameters` hold the last value of a repeated name, `multiValueHeaders` and
 * `multiValueQueryStringParameters` every value; empty maps and an empty body are `null`. Header
 * names are lower-cased (as HTTP APIs send 1.0 events; REST APIs pass the client's spelling, so
 * code written for them already looks names up case-insensitively). Pure.
 * @example apiGatewayV1Event(req).multiValueHeaders['x-tag'] // ['a', 'b']
 */
export function apiGatewayV1Event(req: WebhookRequest): APIGatewayProxyEvent & { version: '1.0' } {
  const grouped = groupHeaders(req.headers);
  const query = groupQuery(req.rawQuery);
  const headers = Object.fromEntries([...grouped].map(([k, v]) => [k, last(v)]));
  const domainName = headers.host ?? '';
  const body = req.body.length > 0 ? eventBody(req.body, headers['content-type']) : undefined;
  const event: APIGatewayProxyEvent & { version: '1.0' } = {
    version: '1.0',
    resource: req.route,
    path: req.path,
    httpMethod: req.method,
    headers,
    multiValueHeaders: Object.fromEntries(grouped),
    queryStringParameters:
      query.size > 0 ? Object.fromEntries([...query].map(([k, v]) => [k, last(v)])) : null,
    multiValueQueryStringParameters: query.size > 0 ? Object.fromEntries(query) : null,
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: API_ID,
      // No authorizer runs here; undefined leaves the field out, as AWS does then.
      authorizer: undefined,
      domainName,
      domainPrefix: domainPrefix(domainName),
      extendedRequestId: req.requestId,
      httpMethod: req.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.sourceIp,
        user: null,
        userAgent: headers['user-agent'] ?? null,
        userArn: null,
      },
      path: req.path,
      protocol: req.protocol,
      requestId: req.requestId,
      requestTime: clfTime(req.timeMs),
      requestTimeEpoch: req.timeMs,
      resourceId: req.route,
      resourcePath: req.route,
      stage: '$default',
    },
    pathParameters: null,
    stageVariables: null,
    body: body?.body ?? null,
    isBase64Encoded: body?.isBase64Encoded ?? false,
  };
  return event;
}
