/**
 * A compiled `dist/` for tests that start Mosaic as child processes (the CLI,
 * the supervisor). Through tsx every start compiles TypeScript again, which
 * costs about a second per process on an idle machine and many on a loaded
 * one; a build at least as new as every source starts in a fraction of that.
 * A stale build is never used: callers fall back to the sources.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');
/** Written last by nothing in particular: tsc rewrites every output, so any one stands for the build. */
const BUILT_CLI = join(ROOT, 'dist', 'cli', 'main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'test-support') newest = Math.max(newest, newestSource(path));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

/** The compiled CLI entry when `dist/` was built from the sources as they are now. */
export function freshBuiltCli(): string | undefined {
  try {
    return statSync(BUILT_CLI).mtimeMs >= newestSource(SRC) ? BUILT_CLI : undefined;
  } catch {
    return undefined;
  }
}

/** Builds `dist/` when it is missing or older than a source; a failed build leaves callers on the sources. */
export function ensureFreshBuild(): void {
  if (freshBuiltCli()) return;
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const built = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) process.stderr.write('test setup: tsc build failed; CLI tests run from the sources through tsx\n');
}
