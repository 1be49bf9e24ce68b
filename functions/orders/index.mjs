// A queue handler written as for Lambda's SQS trigger: one record per invocation, `body` is the
// message as text. The same code runs for RabbitMQ, NATS JetStream and Redis Streams messages.
export async function handler(event) {
  for (const record of event.Records) {
    const order = JSON.parse(record.body || '{}');
    const broker = record.eventSourceARN.split(':')[2];
    console.log(
      `order ${order.id ?? record.messageId} from ${broker}, delivery ${record.attributes.ApproximateReceiveCount}`,
    );
  }
  // Lambda's partial-batch answer: nothing failed. A thrown error retries the invocation instead.
  return { batchItemFailures: [] };
}
