import {defineConfig} from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
          // Property tests run hundreds of cases; on a loaded CI machine 5 s is not enough for some.
          testTimeout: 60_000,
          // hub-auth's store suites create a PGlite data directory or a PostgreSQL database in beforeAll: seconds, more when loaded.
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Each file brings up real services (keyring, provider, Chromium, dockerd): one at a time
          // on a two-core machine keeps them from starving each other.
          fileParallelism: false,
        },
      },
    ],
  },
});
