// A webhook handler in Lambda's HTTP shape: it returns status, headers and body.
export async function handler(event) {
  const name = event.query?.name ?? 'world';
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: `hello, ${name} (${event.method} ${event.path})\n`,
  };
}
