import { execFileSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/** What `MOSAIC_SANDBOX` asks for. */
export const SANDBOX_MODES = ['auto', 'required', 'off'] as const;
export type SandboxMode = (typeof SANDBOX_MODES)[number];

/** The one mechanism Mosaic has today; recorded on the agent as `sandbox`. */
export const BUBBLEWRAP = 'bubblewrap';

export type SandboxProbe =
  | { available: true; mechanism: typeof BUBBLEWRAP; path: string }
  | { available: false; reason: string };

/** The executable `name` resolves to on `path` (or itself when it has a slash), or null. */
export function findExecutable(name: string, path: string | undefined, cwd = process.cwd()): string | null {
  const candidates = name.includes('/')
    ? [isAbsolute(name) ? name : resolve(cwd, name)]
    : (path ?? '').split(delimiter).filter((dir) => dir !== '').map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

const cache = new Map<string, SandboxProbe>();

/**
 * Whether bubblewrap is there and can make the namespaces agents run in.
 * Runs it once per (binary, PATH) and remembers the answer: a kernel that
 * forbids namespaces (some containers) fails here, not at the first spawn.
 */
export function probeSandbox(bwrap: string, path: string | undefined = process.env.PATH): SandboxProbe {
  if (process.platform !== 'linux') {
    return { available: false, reason: `no sandbox on ${process.platform} (bubblewrap needs Linux namespaces)` };
  }
  const key = `${bwrap}\0${path ?? ''}`;
  const known = cache.get(key);
  if (known) return known;
  const found = findExecutable(bwrap, path);
  let probe: SandboxProbe;
  if (found === null) {
    probe = { available: false, reason: `bubblewrap (${bwrap}) not found on PATH; install the "bubblewrap" package` };
  } else {
    try {
      execFileSync(found, ['--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--cap-drop', 'ALL',
        '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--', 'true'],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000, env: { PATH: path ?? '' } });
      probe = { available: true, mechanism: BUBBLEWRAP, path: found };
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
      probe = { available: false, reason: `bubblewrap at ${found} does not work here: ${stderr || (err as Error).message}` };
    }
  }
  cache.set(key, probe);
  return probe;
}
