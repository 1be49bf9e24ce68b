import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestError, type Problem } from '../../src/manifest/errors.js';
import { parseManifest } from '../../src/manifest/load.js';

let dir: string;
beforeAll(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'faas-qmanifest-')));
  await mkdir(join(dir, 'x'));
  await writeFile(join(dir, 'x/index.js'), 'export async function handler() {}\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const fn = (triggers: string) =>
  `version: 1\nfunctions:\n  x:\n    handler: x/index.handler\n    triggers:\n${triggers
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n')}\n`;
const parse = (yaml: string) => parseManifest(yaml, join(dir, 'manifest.yaml'));
function problemsOf(yaml: string): Problem[] {
  try {
    parse(yaml);
  } catch (e) {
    if (e instanceof ManifestError) return e.problems;
    throw e;
  }
  throw new Error('the manifest was accepted');
}

describe('queue and schedule triggers refused with the path of each problem', () => {
  const cases: Array<[string, string, string, string]> = [
    [
      'unknown broker',
      '- queue: { broker: kafka, name: a }',
      'triggers[0].queue.broker',
      'must be one of: amqp, nats, redis',
    ],
    ['missing name', '- queue: { broker: amqp }', 'triggers[0].queue.name', 'required'],
    ['name with spaces', "- queue: { broker: redis, name: 'a b' }", 'triggers[0].queue.name', 'whitespace'],
    [
      'reserved AMQP name',
      '- queue: { broker: amqp, name: amq.x }',
      'triggers[0].queue.name',
      'reserved by RabbitMQ',
    ],
    [
      'NATS empty token',
      '- queue: { broker: nats, name: a..b }',
      'triggers[0].queue.name',
      'no empty tokens',
    ],
    [
      'NATS > not last',
      "- queue: { broker: nats, name: 'a.>.b' }",
      'triggers[0].queue.name',
      'whole last token',
    ],
    [
      'URL instead of a variable',
      "- queue: { broker: amqp, name: a, url: 'amqp://x' }",
      'triggers[0].queue.url',
      'NAME of the environment variable',
    ],
    [
      'maxBacklog 0',
      '- queue: { broker: amqp, name: a, maxBacklog: 0 }',
      'triggers[0].queue.maxBacklog',
      'at least 1',
    ],
    [
      'unknown queue field',
      '- queue: { broker: amqp, name: a, prefetch: 3 }',
      'triggers[0].queue.prefetch',
      'unknown field "prefetch"',
    ],
    [
      'cron with 4 fields',
      "- schedule: { cron: '* * * *' }",
      'triggers[0].schedule.cron',
      'must have 5 fields',
    ],
    [
      'cron out of range',
      "- schedule: { cron: '61 * * * *' }",
      'triggers[0].schedule.cron',
      'is not a cron pattern',
    ],
    ['every without unit', '- schedule: { every: 30 }', 'triggers[0].schedule.every', 'must be a duration'],
    [
      'both cron and every',
      "- schedule: { cron: '* * * * *', every: 1m }",
      'triggers[0].schedule',
      'either cron',
    ],
    ['neither', '- schedule: { timezone: UTC }', 'triggers[0].schedule', 'either cron'],
    [
      'bad timezone',
      "- schedule: { cron: '* * * * *', timezone: Mars/Base }",
      'triggers[0].schedule.timezone',
      'not a time zone',
    ],
  ];
  it.each(cases)('%s', (_, triggers, path, message) => {
    const problems = problemsOf(fn(triggers));
    expect(problems.map((p) => p.path)).toContain(`functions.x.${path}`);
    expect(problems.find((p) => p.path === `functions.x.${path}`)?.message).toContain(message);
  });
});

describe('queue and schedule triggers as the platform reads them', () => {
  it("normalizes DESIGN.md's example, with defaults", () => {
    const m = parse(
      fn(`- queue:
    broker: amqp
    name: orders
    url: ORDERS_BROKER_URL
    maxBacklog: 1000
- queue: { broker: nats, name: 'orders.>' }
- schedule:
    cron: '*/5 * * * *'
    timezone: Europe/Berlin
- schedule: { every: 30s }
- schedule: { cron: '*/10 * * * * *' }`),
    );
    expect(m.functions.x?.triggers).toEqual([
      { type: 'queue', broker: 'amqp', name: 'orders', url: 'ORDERS_BROKER_URL', maxBacklog: 1000 },
      { type: 'queue', broker: 'nats', name: 'orders.>', maxBacklog: 1000 },
      { type: 'schedule', cron: '*/5 * * * *', timezone: 'Europe/Berlin' },
      { type: 'schedule', everyMs: 30_000, timezone: 'UTC' },
      { type: 'schedule', cron: '*/10 * * * * *', timezone: 'UTC' },
    ]);
  });
});
