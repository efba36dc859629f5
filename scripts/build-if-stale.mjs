#!/usr/bin/env node
/**
 * `npm start` runs this first: it builds `dist/` and `web/dist/` when either
 * is missing or older than a source, so a fresh clone and a `git pull` both
 * start what the sources say, while an unchanged checkout starts at once.
 * Plain JavaScript with no dependencies: it must run before anything is built.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

function newest(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return /\.test\.tsx?$/.test(path) ? 0 : stat.mtimeMs;
  return readdirSync(path).reduce((max, name) => Math.max(max, newest(join(path, name))), 0);
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

const sources = Math.max(newest(join(ROOT, 'src')), newest(join(ROOT, 'web', 'src')), newest(join(ROOT, 'web', 'index.html')),
  newest(join(ROOT, 'tsconfig.json')), newest(join(ROOT, 'tsconfig.build.json')), newest(join(ROOT, 'web', 'vite.config.ts')));
const built = Math.min(mtime(join(ROOT, 'dist', 'cli', 'main.js')), mtime(join(ROOT, 'web', 'dist', 'index.html')));

if (built < sources) {
  process.stderr.write(built < 0 ? 'mosaic: building (first start)…\n' : 'mosaic: sources changed since the last build; building…\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // The build's output goes to stderr: `npm run mosaic -- ... --json` must keep stdout for the command.
  const result = spawnSync(npm, ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) {
    process.stderr.write('mosaic: the build failed; not starting an older build\n');
    process.exit(result.status ?? 1);
  }
}
