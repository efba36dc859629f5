import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (never a downloaded browser); MOSAIC_CHROMIUM points elsewhere when needed. */
export const CHROMIUM = process.env.MOSAIC_CHROMIUM ?? '/usr/bin/chromium';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The flags a headless Chromium needs here: no sandbox (CI runs as root), no GPU, no network of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

/** Builds web/ as `npm run build:web` does (into web/dist, which servers serve), so a test never depends on an earlier build. */
export function buildWeb(): void {
  const vite = join(createRequire(import.meta.url).resolve('vite/package.json'), '..', 'bin', 'vite.js');
  execFileSync(process.execPath, [vite, 'build', '--config', join(ROOT, 'web', 'vite.config.ts')], { cwd: ROOT, stdio: 'pipe' });
}
