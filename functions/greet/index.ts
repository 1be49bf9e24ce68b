// A function-URL style handler (API Gateway payload 2.0, the webhook default), typed with
// @types/aws-lambda. Returning an object without statusCode would also work: it is sent as JSON.
import type { APIGatewayProxyHandlerV2 } from 'aws-lambda';

export const handler: APIGatewayProxyHandlerV2 = async (event) => {
  const name = event.queryStringParameters?.name ?? 'world';
  const visits = Number(event.cookies?.find((c) => c.startsWith('visits='))?.slice(7) ?? 0) + 1;
  const body =
    event.body && event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString() : event.body;
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    cookies: [`visits=${visits}; Path=/; HttpOnly`],
    body: JSON.stringify({
      greeting: `hello, ${name}`,
      visits,
      route: event.routeKey,
      from: event.requestContext.http.sourceIp,
      received: body ?? null,
    }),
  };
};
