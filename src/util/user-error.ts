/**
 * Something the person running the platform can fix: a bad setting, a bad manifest, a service
 * that is not running. The CLI prints its message as one line, without a stack; anything else
 * that reaches the top is a bug. The message says what is wrong, then what fixes it.
 * @example throw new UserError(`Redis is not reachable at ${url}`, 'start it with `npm run services:up`');
 */
export class UserError extends Error {
  override name = 'UserError';

  constructor(
    /** What is wrong. */
    readonly problem: string,
    /** What fixes it, when there is more to say than the problem. */
    readonly fix?: string,
  ) {
    super(fix ? `${problem}: ${fix}` : problem);
  }
}
