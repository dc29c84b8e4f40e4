import { defineConfig } from 'vitest/config';

// Test files say what they need by name: *.unit.spec.ts (no servers),
// *.int.spec.ts (the local stack), *.e2e.spec.ts (the whole system).
const exclude = ['**/node_modules/**', '.stack/**'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Two workers: the machine has two cores and integration tests share one broker.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['**/*.unit.spec.ts'], exclude } },
      {
        extends: true,
        test: {
          name: 'int',
          include: ['**/*.int.spec.ts', '**/*.e2e.spec.ts'],
          exclude,
          globalSetup: ['./packages/testing/src/global-setup.ts'],
        },
      },
    ],
  },
});
