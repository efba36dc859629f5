import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REAL_CLI_INSTALL_TIMEOUT_MS, REAL_CLIS, realCliBin, type RealCliName } from './real-cli.js';

describe('the real agent CLIs for offline tests', () => {
  it('installs each pinned CLI once and runs it', () => {
    const home = mkdtempSync(join(tmpdir(), 'mosaic-real-cli-'));
    try {
      for (const name of Object.keys(REAL_CLIS) as RealCliName[]) {
        const out = execFileSync(realCliBin(name), ['--version'], { encoding: 'utf8', env: { ...process.env, HOME: home }, timeout: 60_000 });
        expect(out, name).toContain(REAL_CLIS[name].version);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, REAL_CLI_INSTALL_TIMEOUT_MS);
});
