import type { Redis } from 'ioredis';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/index.js';
import type { CodeStore } from '../deploy/code-store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Enqueue } from '../queue/enqueue.js';
import type { Producer } from '../queue/producer.js';
import type { RecordStore } from '../queue/records.js';
import type { LiveFunctions } from './functions.js';

/** Which parts of the platform run in this process. */
export interface Roles {
  api: boolean;
  workers: boolean;
  listeners: boolean;
}

/** What every role is built from: the process's connections, stores and live functions. */
export interface RoleContext {
  config: Config;
  log: Logger;
  instance: string;
  /**
   * The cluster label of this host's containers (`clusterLabel`): the pool labels them with it
   * and the reaper sweeps only containers that carry it.
   */
  cluster: string;
  /** The workers' and records' connection (waits out a Redis restart). */
  redis: Redis;
  s3: S3Client;
  code: CodeStore;
  records: RecordStore;
  producer: Producer;
  /** Every trigger hands its events over through this (counted by source and outcome). */
  sink: Enqueue;
  metrics: Metrics;
  functions: LiveFunctions;
  secrets: Record<string, string | undefined>;
}

/**
 * Runs `work` after the previous change finished, one at a time and in order: a role reconfigures
 * for each deploy as it lands, never for two at once.
 */
export function serial(log: Logger, what: string): (work: () => Promise<void>) => Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  return (work) => {
    chain = chain.then(work).catch((err: Error) => log.error({ err: err.message }, `could not ${what}`));
    return chain;
  };
}
