import { defineConfig } from 'vitest/config';

// Two tiers: unit tests beside the code (no services), integration tests under test/
// that talk to a real Kafka broker and Elasticsearch node (see test/harness).
// kafkajs 2.2.4 schedules a timer with a negative delay (kafkajs#1751): harmless, but Node 24
// warns on every connection.
const QUIET_KAFKAJS = ['--disable-warning=TimeoutNegativeWarning'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['shared/*/src/**/*.test.ts', 'tools/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/unit/**/*.test.ts'],
          environment: 'node',
          execArgv: QUIET_KAFKAJS,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          execArgv: QUIET_KAFKAJS,
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // One broker and one node serve every file: files run one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
