import { filterOverrides } from './run.js';

/**
 * `-c` settings for git commands that touch a checkout or move refs on a
 * user's repository: no hook (update-ref runs `reference-transaction`), no
 * fsmonitor program (status, read-tree), and every configured filter driver
 * (smudge/clean/process, named by the repository's own .gitattributes)
 * turned off, so landing work never runs a program the repository chose.
 * An empty filter command is how git spells "no filter".
 */
const BASE = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'core.splitIndex=false'];

export async function safeConfigArgs(repoPath: string): Promise<string[]> {
  const off = await filterOverrides(repoPath);
  return [...BASE, ...off.flatMap(([key, value]) => ['-c', `${key}=${value}`])];
}
