// A scheduled handler: the event is EventBridge's "Scheduled Event", `time` is the tick.
export async function handler(event) {
  console.log(`${event['detail-type']} at ${event.time} (${event.resources[0]})`);
  return { tick: event.time };
}
