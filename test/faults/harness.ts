/**
 * The fault-injection suite's harness: platform processes by role, paced event senders that
 * retry the way real senders do, the effect check (one output per input, none missing, none
 * extra), the services around the platform, cleanup, and one report line per scenario.
 * FAULTS_LOGS=<dir> keeps every platform process's output there.
 */
export * from './lib/effect.js';
export * from './lib/processes.js';
export * from './lib/proxy.js';
export * from './lib/scenario.js';
export * from './lib/senders.js';
export * from './lib/services.js';
export * from './lib/wait.js';
export * from './lib/queues.js';
