import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'web/src/**/*.test.ts'],
    // Builds dist/ once when stale, so tests that start the CLI or a supervisor as a process skip tsx.
    globalSetup: ['src/test-support/global-setup.ts'],
    // Tests start real servers, git repositories and child processes; the CI
    // machine has two cores, so keep parallelism modest and timeouts generous.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
