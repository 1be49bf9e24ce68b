import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The platform's structured logger (JSON lines on stderr). Components take a child logger
 * (`logger.child({ component: 'pool' })`) rather than creating their own.
 * @example const log = createLogger('info').child({ component: 'worker' });
 */
export function createLogger(level: string = 'info'): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}

/** A logger that writes nothing, for tests that do not read logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
