// A webhook handler for API Gateway's payload 2.0 (the default): it returns status, headers and body.
export async function handler(event) {
  const name = event.queryStringParameters?.name ?? 'world';
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: `hello, ${name} (${event.requestContext.http.method} ${event.rawPath})\n`,
  };
}
