// A REST API handler (API Gateway payload 1.0: `payload: '1.0'` in the manifest), typed with
// @types/aws-lambda. In 1.0 a response must have a statusCode and a string body.
import type { APIGatewayProxyHandler } from 'aws-lambda';

export const handler: APIGatewayProxyHandler = async (event) => {
  const names = event.multiValueQueryStringParameters?.name ?? ['world'];
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    multiValueHeaders: { 'x-greeted': names },
    body: names.map((n) => `hello, ${n} (${event.httpMethod} ${event.resource})`).join('\n') + '\n',
  };
};
