// Holds its container for `event.ms` (default 200 ms): work that makes the autoscaler add containers.
export async function handler(event) {
  const ms = Number(event?.ms ?? 200);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { slept: ms };
}
