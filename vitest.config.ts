import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'functions/**/*.test.ts',
            'examples/**/*.test.ts',
            'shared/**/*.test.ts',
            'tasks/**/*.test.ts',
            'scripts/**/*.test.ts',
            'deploy/**/*.test.ts',
            'observability/**/*.test.ts',
            'test/faults/**/*.unit.test.ts',
          ],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          // One real stack (scheduler + daprd + app) serves every file; run them one by one.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/faults/**/*.unit.test.ts'],
          // A scenario starts its own stack, loads it, breaks it, lets it settle and checks it: minutes.
          testTimeout: 600_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          // beforeAll starts a control plane, and builds its binaries first when they are missing
          // (27 min cold on this 2-core machine: scripts/lib/kube-binaries.ts).
          testTimeout: 120_000,
          hookTimeout: 2_400_000,
          // Each file runs its own control plane: one at a time on two cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
