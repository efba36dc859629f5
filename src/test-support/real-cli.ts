import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The real agent CLIs, installed from npm on first use for the tests that
 * run them offline (login errors, hooks run before login, `claude mcp list`).
 * They are test tools, not dependencies of Mosaic, so they stay out of
 * package.json (about 1.3 GB of native binaries a user would never need):
 * one `npm install` into ~/.cache/mosaic-real-clis, pinned versions, shared
 * by every test file and checkout, and kept between runs.
 */
export const REAL_CLIS = {
  claude: { pkg: '@anthropic-ai/claude-code', version: '2.1.332', bin: 'claude' },
  codex: { pkg: '@openai/codex', version: '0.171.0', bin: 'codex' },
  gemini: { pkg: '@google/gemini-cli', version: '0.61.0', bin: 'gemini' },
  opencode: { pkg: 'opencode-ai', version: '1.18.33', bin: 'opencode' },
} as const;

export type RealCliName = keyof typeof REAL_CLIS;

/** Outside the checkout, so every clone and worktree of it shares one install (override: MOSAIC_TEST_CLI_CACHE). */
const CACHE = process.env.MOSAIC_TEST_CLI_CACHE ?? join(homedir(), '.cache', 'mosaic-real-clis');
/** What is installed, so a change of pinned versions reinstalls. */
const STAMP = join(CACHE, 'installed.json');
/** Time for one npm install of all four (about a minute on a quiet machine with the registry near). */
export const REAL_CLI_INSTALL_TIMEOUT_MS = 10 * 60_000;

function wanted(): string[] {
  return Object.values(REAL_CLIS).map((cli) => `${cli.pkg}@${cli.version}`);
}

function installed(): boolean {
  try {
    const stamp = JSON.parse(readFileSync(STAMP, 'utf8')) as unknown;
    return JSON.stringify(stamp) === JSON.stringify(wanted())
      && Object.values(REAL_CLIS).every((cli) => existsSync(join(CACHE, 'node_modules', '.bin', cli.bin)));
  } catch {
    return false;
  }
}

/**
 * The absolute path of a real CLI's executable, installing all of them first
 * when needed. Parallel test files wait on one lock (`flock`), so npm runs once.
 * Call it from a `beforeAll` given REAL_CLI_INSTALL_TIMEOUT_MS.
 */
export function realCliBin(name: RealCliName): string {
  if (!installed()) {
    mkdirSync(CACHE, { recursive: true });
    const script = `[ -f installed.json ] && [ "$(cat installed.json)" = '${JSON.stringify(wanted())}' ] || { npm install --no-save --no-audit --no-fund --loglevel=error --prefix . ${wanted().join(' ')} && printf '%s' '${JSON.stringify(wanted())}' > installed.json; }`;
    execFileSync('flock', [join(CACHE, '.lock'), 'sh', '-c', script], {
      cwd: CACHE, stdio: ['ignore', 'ignore', 'inherit'], timeout: REAL_CLI_INSTALL_TIMEOUT_MS,
    });
    if (!installed()) throw new Error(`installing ${wanted().join(', ')} into ${CACHE} did not leave their executables`);
  }
  return join(CACHE, 'node_modules', '.bin', REAL_CLIS[name].bin);
}
