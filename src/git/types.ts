/** One entry of `git worktree list --porcelain`. */
export interface WorktreeEntry {
  path: string;
  head: string | null;
  /** Short branch name (without refs/heads/), or null when detached. */
  branch: string | null;
  bare: boolean;
  detached: boolean;
  locked: boolean;
  prunable: boolean;
  /** Reason given to `git worktree lock`, when there was one. */
  lockedReason?: string;
  /** Why git considers the worktree prunable (e.g. its directory is gone). */
  prunableReason?: string;
}

export interface CreateWorktreeOptions {
  repoPath: string;
  /** Directory name inside the managed root, e.g. `agent-<id>-<task>`. */
  name: string;
  branch: string;
  baseBranch: string;
}

export interface CreatedWorktree {
  path: string;
  branch: string;
  /** The commit the branch was created from. */
  baseCommit: string;
}

export interface DiffSummary {
  commitsAhead: number;
  filesChanged: number;
}
