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
    // One process per worker runs its test files one after another without
    // re-importing the modules they share (Fastify, the store's drivers, the
    // instance): that import cost about 2 s of CPU per file, 180-207 s per run.
    // The tests start their own instances, databases and temp folders and
    // restore any global they change (process.env, Date.now): see README
    // "Development".
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
