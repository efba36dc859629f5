import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (never a downloaded browser); MOSAIC_CHROMIUM points elsewhere when needed. */
export const CHROMIUM = process.env.MOSAIC_CHROMIUM ?? '/usr/bin/chromium';

/** The flags a headless Chromium needs here: no sandbox (CI runs as root), no GPU, no network of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}
