import type { FunctionSpec } from '../../src/manifest/types.js';

/** A function spec with the manifest's defaults, for tests that build no manifest. */
export function fnSpec(name: string, overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    name,
    handler: `${name}/index.handler`,
    handlerFile: `/nonexistent/${name}/index.mjs`,
    exportName: 'handler',
    runtime: 'node20',
    timeoutMs: 30_000,
    memoryBytes: 128 * 1024 * 1024,
    cpu: 1,
    concurrency: 1,
    scale: { min: 0, max: 10, idleTimeoutMs: 60_000 },
    retry: { attempts: 3, backoffMs: 1000, maxBackoffMs: 60_000 },
    env: {},
    storage: { read: [], write: [] },
    network: 'none',
    triggers: [],
    ...overrides,
  };
}
