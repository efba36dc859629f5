export type { CreatedWorktree, CreateWorktreeOptions, DiffSummary, WorktreeEntry } from './types.js';
export {
  DEFAULT_MAX_BUFFER, DEFAULT_TIMEOUT_MS, GitError, gitVersion, isGitError, isLockError, runGit,
  sanitizedEnv, withLockRetry, trustAgentOwnedTrees, worktreeFilters,
} from './run.js';
export type { GitResult, RetryOptions, RunGitOptions, WorktreeFilters } from './run.js';
export { assertInside, assertManagedWorktree, isInside, MANAGED_SUFFIX, managedRoot, resolveReal, worktreePathFor } from './paths.js';
export { assertBranchName, assertRefName, isAgentBranchName, isValidBranchName, isValidRefName } from './refs.js';
export { assertRepoTopLevel, branchExists, deleteBranch, inspectRepo, inspectTopLevel, resolveCommit } from './repo.js';
export type { RepoInfo } from './repo.js';
export { listWorktrees, parseWorktreeList } from './list.js';
export { SNAPSHOT_REF_PREFIX, snapshotWorktree } from './snapshot.js';
export { DEFAULT_MAX_DIFF_BYTES, diffBranch, summarizeBranch } from './diff.js';
export { copyIntoWorktree, normalizeCopyEntry } from './copy.js';
export { WorktreeManager } from './worktrees.js';
export type { BrokenEntry } from './broken.js';
export type { WorktreeManagerOptions } from './worktrees.js';
export { LAND_STRATEGIES, landBranch } from './land.js';
export type { LandOptions, LandResult, LandStrategy } from './land.js';
export { mergeCommits, mergeTrees } from './merge.js';
export type { TreeMerge } from './merge.js';
export { captureWorktreeTree, diffWorktree } from './capture.js';
export type { CapturedTree } from './capture.js';
export { ConflictRadar, probeCommit } from './radar.js';
export type { RadarAgent, RadarPair, RadarReport } from './radar.js';
export {
  DEFAULT_SETUP_INPUTS, inspectPooled, isPoolId, listPooledWorktrees, normalizeSetupInput, poolIdOfPath, pooledNames,
  POOL_BRANCH_PREFIX, POOL_NAME_PREFIX, setupInputsChanged,
} from './pool.js';
export type { PooledState, PooledWorktreeEntry } from './pool.js';
export { BASE_VIEW_DIR, preparePrivateGitDir } from './private-gitdir.js';
export type { PrivateGitDir, PrivateGitDirOptions } from './private-gitdir.js';
export { importCommits, newTips, removeView } from './import-commits.js';
export type { AgentTips, ImportResult } from './import-commits.js';
export { createBranchBundle, importBranchBundle } from './bundle.js';
export type { BranchBundle, ImportBundleOptions } from './bundle.js';
export { pushBranch } from './push.js';
export { isIgnoredDir } from './ignore.js';
export type { PullRequestText, PushedBranch } from './push.js';
export { diffStat, type DiffFileStat, type DiffStat } from './diff-stat.js';
export { adoptRemoteBranch, checkRemoteUrl, cloneRemote, cloneUrl, commitCheckpoint, fetchRemote, pushRemote, REMOTE_BRANCHES } from './remote.js';
export type { RemotePush, RemoteScheme } from './remote.js';
