import { gitAtLeast, runGit } from './run.js';
import type { WorktreeEntry } from './types.js';

/** Worktrees git knows for the repository at `repoPath`, main worktree first. */
export async function listWorktrees(repoPath: string): Promise<WorktreeEntry[]> {
  // `-z` (git >= 2.36) keeps paths containing newlines intact.
  const nul = await gitAtLeast(2, 36);
  const { stdout } = await runGit(repoPath, ['worktree', 'list', '--porcelain', ...(nul ? ['-z'] : [])]);
  return parseWorktreeList(stdout, nul);
}

/**
 * Parses `git worktree list --porcelain`, with `-z` (fields end with NUL,
 * records with an extra NUL) or without it (fields end with a newline,
 * records with an empty line). Paths are taken verbatim after the keyword, so
 * spaces survive; with `-z` newlines do too.
 */
export function parseWorktreeList(output: string, nulTerminated: boolean): WorktreeEntry[] {
  const fields = output.split(nulTerminated ? '\0' : '\n');
  const entries: WorktreeEntry[] = [];
  let current: WorktreeEntry | null = null;
  const finish = (): void => {
    if (current) entries.push(current);
    current = null;
  };
  for (const field of fields) {
    if (field === '') {
      finish();
      continue;
    }
    const space = field.indexOf(' ');
    const key = space === -1 ? field : field.slice(0, space);
    const value = space === -1 ? '' : field.slice(space + 1);
    if (key === 'worktree') {
      finish();
      current = { path: value, head: null, branch: null, bare: false, detached: false, locked: false, prunable: false };
      continue;
    }
    if (!current) continue;
    // `current` is reassigned inside finish(); TypeScript's narrowing loses track of it.
    const entry: WorktreeEntry = current;
    switch (key) {
      case 'HEAD':
        entry.head = value || null;
        break;
      case 'branch':
        entry.branch = value.startsWith('refs/heads/') ? value.slice('refs/heads/'.length) : value;
        break;
      case 'bare':
        entry.bare = true;
        break;
      case 'detached':
        entry.detached = true;
        break;
      case 'locked':
        entry.locked = true;
        if (value) entry.lockedReason = value;
        break;
      case 'prunable':
        entry.prunable = true;
        if (value) entry.prunableReason = value;
        break;
      default:
        break; // fields added by later git versions
    }
  }
  finish();
  return entries;
}
