import { GitError, runGit } from './run.js';

/**
 * `-c` settings for git commands that touch a checkout or move refs on a
 * user's repository: no hook (update-ref runs `reference-transaction`), no
 * fsmonitor program (status, read-tree), and every configured filter driver
 * (smudge/clean/process, named by the repository's own .gitattributes)
 * turned off, so landing work never runs a program the repository chose.
 * An empty filter command is how git spells "no filter".
 */
const BASE = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'core.splitIndex=false'];

const FILTER_KEY = /^filter\.(.+)\.(smudge|clean|process)$/i;

export async function safeConfigArgs(repoPath: string): Promise<string[]> {
  let names: string[] = [];
  try {
    const { stdout } = await runGit(repoPath, ['config', '-z', '--name-only', '--get-regexp', '^filter\\.']);
    names = stdout.split('\0').filter((n) => n !== '');
  } catch (err) {
    if (!(err instanceof GitError && err.exitCode === 1)) throw err; // 1: no such keys
  }
  const drivers = new Set<string>();
  for (const key of names) {
    const m = FILTER_KEY.exec(key);
    if (m?.[1] !== undefined) drivers.add(m[1]);
  }
  const off: string[] = [];
  for (const driver of drivers) {
    for (const kind of ['smudge', 'clean', 'process']) off.push('-c', `filter.${driver}.${kind}=`);
    off.push('-c', `filter.${driver}.required=false`);
  }
  return [...BASE, ...off];
}
