/**
 * A supervisor started ahead (`main.js <agentDir> --await-spec <serverPid>`):
 * the launcher starts it while the sandbox is prepared, so Node's start-up
 * overlaps that work, and renames spec.json into place when the launch is
 * ready. Node built-ins only, like main.ts.
 */
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { SPEC_FILE } from './spec.js';

/** The name a waiting supervisor renames spec.json to: its claim, so two waiting supervisors never both take one. */
export function claimedSpecFile(pid: number): string {
  return `${SPEC_FILE}.claimed-${pid}`;
}

/**
 * Waits for spec.json in `dir` and claims it (renamed to `claimedSpecFile`):
 * true once claimed; false when `waitMs` ran out or the server that started
 * this process is gone (it is no longer its parent): a server started later
 * relaunches the agent with a supervisor of its own, and this one must never
 * take that one's spec.
 */
export async function claimSpec(dir: string, serverPid: number, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  const claimed = join(dir, claimedSpecFile(process.pid));
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  // Every 5 ms for the first 2 s (the usual wait is the sandbox's preparation: ~0.1-0.5 s), then every 50 ms.
  for (const since = Date.now(); Date.now() < deadline; await sleep(Date.now() - since < 2000 ? 5 : 50)) {
    if (process.ppid !== serverPid) return false;
    try {
      renameSync(join(dir, SPEC_FILE), claimed);
      return true;
    } catch {
      // not there yet (or another took it)
    }
  }
  return false;
}
