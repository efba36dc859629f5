/** Shared test fixtures: real git repos, temp dirs, polling, and a fake Claude Code CLI. */
import { fileURLToPath } from 'node:url';

export { git, makeTempDir, makeTempRepo, TEST_GIT_USER, type TempDir, type TempRepoOptions } from './git-fixtures.js';
export { waitFor, type WaitOptions } from './wait.js';

/** Absolute path of the executable fake `claude` (use as MOSAIC_CLAUDE_BIN). */
export const FAKE_CLAUDE_BIN = fileURLToPath(new URL('./fake-claude.mjs', import.meta.url));
