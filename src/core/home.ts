import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Files and folders inside `$MOSAIC_HOME`. */
export const homePaths = (home: string) => ({
  db: join(home, 'mosaic.db'),
  adminToken: join(home, 'admin-token'),
  identityDir: join(home, 'identity'),
  agentsDir: join(home, 'agents'),
  agentDir: (agentId: string) => join(home, 'agents', agentId),
});

/** Creates the home folder (0700) and its subfolders if missing. */
export function ensureHome(home: string): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chmodSync(home, 0o700);
  mkdirSync(join(home, 'agents'), { recursive: true, mode: 0o700 });
}

/** Reads the admin token, creating a fresh random one (0600) on first use. */
export function ensureAdminToken(home: string): string {
  const file = homePaths(home).adminToken;
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 32) return token;
  } catch {
    // Missing: create it below.
  }
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

export function readAdminToken(home: string): string | undefined {
  try {
    return readFileSync(homePaths(home).adminToken, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Unix permission bits of a path, or undefined when it does not exist. */
export function modeOf(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return undefined;
  }
}
