/**
 * The rules for queue and schedule triggers, as pure functions returning what is wrong (or
 * undefined), like rules.ts.
 */
import cronParser from 'cron-parser';

/** What is wrong with a queue, subject or stream name, whatever the broker. */
export function queueNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name.length > 255) return 'must be at most 255 characters';
  if (/\s/.test(name)) return 'must not contain spaces or other whitespace';
  return undefined;
}

/** What is wrong with a name for one broker in particular. */
export function brokerNameProblem(broker: string, name: string): string | undefined {
  if (broker === 'amqp' && name.startsWith('amq.')) {
    return 'names starting with "amq." are reserved by RabbitMQ: choose another queue name';
  }
  if (broker === 'nats') {
    const tokens = name.split('.');
    if (tokens.some((t) => t === ''))
      return `"${name}" is not a NATS subject: no empty tokens ("a..b", ".a", "a.")`;
    const full = tokens.findIndex((t) => t.includes('>'));
    if (full >= 0 && (tokens[full] !== '>' || full !== tokens.length - 1)) {
      return `"${name}" is not a NATS subject: ">" may only be the whole last token`;
    }
    if (tokens.some((t) => t.includes('*') && t !== '*')) {
      return `"${name}" is not a NATS subject: "*" must be a whole token`;
    }
  }
  return undefined;
}

/**
 * What is wrong with a cron pattern: 5 fields (minute first), or 6 with seconds first, as
 * BullMQ's job schedulers read them.
 * @example cronProblem('*\/5 * * * *') // undefined
 */
export function cronProblem(pattern: string): string | undefined {
  // What a Lambda user writes first: EventBridge's expressions.
  const rate = /^rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)$/i.exec(pattern.trim());
  if (rate) {
    const n = Number(rate[1]);
    const unit = (rate[2] as string).toLowerCase()[0];
    const every = unit === 'm' ? `${n}m` : unit === 'h' ? `${n}h` : `${n * 24}h`;
    return `is EventBridge's rate expression: write it as every: ${every} instead of cron`;
  }
  if (/^cron\(/i.test(pattern.trim())) {
    return "is EventBridge's cron() form: give its fields without cron( ), minute first, with * for its ? and without its year field (5 fields, or 6 with seconds first)";
  }
  const fields = pattern.trim().split(/\s+/).length;
  if (fields < 5 || fields > 6) {
    return `must have 5 fields (minute hour day month weekday) or 6 with seconds first, not ${fields}: like '*/5 * * * *'`;
  }
  try {
    cronParser.parseExpression(pattern);
    return undefined;
  } catch (err) {
    return `is not a cron pattern: ${(err as Error).message}`;
  }
}

/** What is wrong with an IANA time zone name. */
export function timezoneProblem(zone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return undefined;
  } catch {
    return `"${zone}" is not a time zone: use an IANA name such as UTC or Europe/Berlin`;
  }
}
