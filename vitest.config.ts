import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites share one Docker engine and one Redis; files run one after another so
    // a container-heavy suite does not starve the next one's timings on two cores.
    fileParallelism: false,
    reporters: ['default'],
  },
});
