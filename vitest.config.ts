import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Test files say what they need by name: *.unit.spec.ts (no servers),
// *.int.spec.ts (the local stack), *.e2e.spec.ts (the whole system, services as processes).
// A workspace's `npm run test:unit` uses this file from its own folder: the patterns
// are relative to the folder Vitest runs in, so each workspace runs only its own tests.
const exclude = ['**/node_modules/**', '.stack/**'];
const globalSetup = [fileURLToPath(new URL('./packages/testing/src/global-setup.ts', import.meta.url))];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Two workers: the machine has two cores and integration tests share one broker.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['**/*.unit.spec.ts'], exclude } },
      { extends: true, test: { name: 'int', include: ['**/*.int.spec.ts'], exclude, globalSetup } },
      { extends: true, test: { name: 'e2e', include: ['**/*.e2e.spec.ts'], exclude, globalSetup } },
      // *.cluster.spec.ts start servers of their own (three Kafka brokers, …) and take minutes: only
      // with PUSHTECH_CLUSTER_TESTS=1 (`PUSHTECH_CLUSTER_TESTS=1 ./pushtech test --project cluster`, which .ci/run runs first).
      ...(process.env.PUSHTECH_CLUSTER_TESTS === '1' ? [{ extends: true as const, test: { name: 'cluster', include: ['**/*.cluster.spec.ts'], exclude, testTimeout: 180_000, hookTimeout: 300_000 } }] : []),
    ],
  },
});
