import type { APIGatewayProxyEventV2 } from 'aws-lambda';
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

/**
 * The event of API Gateway's HTTP API payload format 2.0 (also what function URLs send): header
 * names lower-cased and repeats joined with commas, cookies split out of the `cookie` header into
 * `cookies`, query parameters decoded with repeats joined by commas. Fields AWS leaves out when
 * they would be empty (`cookies`, `queryStringParameters`, `body`, `pathParameters`,
 * `stageVariables`) are left out here too. Pure.
 * @example apiGatewayV2Event(req).routeKey // 'POST /hooks/csv'
 */
export function apiGatewayV2Event(req: WebhookRequest): APIGatewayProxyEventV2 & { version: '2.0' } {
  const grouped = groupHeaders(req.headers);
  const cookies = (grouped.get('cookie') ?? [])
    .flatMap((h) => h.split(';'))
    .map((c) => c.trim())
    .filter(Boolean);
  grouped.delete('cookie');
  const headers = Object.fromEntries([...grouped].map(([k, v]) => [k, v.join(',')]));
  const query = groupQuery(req.rawQuery);
  const routeKey = `${req.method} ${req.route}`;
  const domainName = headers.host ?? '';
  const event: APIGatewayProxyEventV2 & { version: '2.0' } = {
    version: '2.0',
    routeKey,
    rawPath: req.path,
    rawQueryString: req.rawQuery,
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(query.size > 0 && {
      queryStringParameters: Object.fromEntries([...query].map(([k, v]) => [k, v.join(',')])),
    }),
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: API_ID,
      domainName,
      domainPrefix: domainPrefix(domainName),
      http: {
        method: req.method,
        path: req.path,
        protocol: req.protocol,
        sourceIp: req.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: req.requestId,
      routeKey,
      stage: '$default',
      time: clfTime(req.timeMs),
      timeEpoch: req.timeMs,
    },
    isBase64Encoded: false,
  };
  if (req.body.length > 0) Object.assign(event, eventBody(req.body, headers['content-type']));
  return event;
}
