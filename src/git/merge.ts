import { GitError, runGit } from './run.js';

/**
 * Three-way merges computed in the object database only (`git merge-tree
 * --write-tree`, git >= 2.38): no index, no work tree, no checkout. Callers
 * pass commit ids (hex), never user text, in revision positions.
 */

export interface TreeMerge {
  /** The merged tree (with conflict markers in conflicting files when `conflicts` is non-empty). */
  tree: string;
  /** Paths git could not merge, sorted, each once. */
  conflicts: string[];
}

const IDENTITY_FALLBACK = { name: 'Mosaic', email: 'mosaic@localhost' };

/** Parses `merge-tree --write-tree -z --name-only --no-messages` output: tree NUL, then paths NUL-terminated. */
export function parseMergeTree(stdout: string): TreeMerge {
  const [tree = '', ...rest] = stdout.split('\0');
  if (!/^[0-9a-f]{40,64}$/.test(tree)) throw new Error(`merge-tree printed no tree id: ${JSON.stringify(stdout.slice(0, 200))}`);
  return { tree, conflicts: [...new Set(rest.filter((p) => p !== ''))].sort() };
}

/**
 * Merges commit `theirs` into commit `ours` using their merge base(s), as
 * `git merge` would. Exit 1 means conflicts (still with a tree); any other
 * failure (e.g. unrelated histories) throws.
 */
export async function mergeCommits(repoPath: string, ours: string, theirs: string): Promise<TreeMerge> {
  try {
    const { stdout } = await runGit(repoPath, ['merge-tree', '--write-tree', '-z', '--name-only', '--no-messages', ours, theirs]);
    return parseMergeTree(stdout);
  } catch (err) {
    if (err instanceof GitError && err.exitCode === 1) return parseMergeTree(err.stdout);
    throw err;
  }
}

/**
 * Three-way merge of trees with an explicit base. git 2.39 has no
 * `merge-tree --merge-base`, so two throwaway commits are made whose only
 * common ancestor is a commit of `base`: their merge base is then exactly
 * that commit. The commits are unreferenced objects git's gc drops later.
 */
export async function mergeTrees(repoPath: string, base: string, ours: string, theirs: string): Promise<TreeMerge> {
  // A fixed date makes the probes deterministic: the same merge writes the same objects again.
  const env = { ...identityEnv(IDENTITY_FALLBACK, IDENTITY_FALLBACK, '1000000000 +0000'), GIT_COMMITTER_DATE: '1000000000 +0000' };
  const commit = async (tree: string, parent?: string): Promise<string> => (await runGit(repoPath,
    ['commit-tree', '--no-gpg-sign', ...(parent ? ['-p', parent] : []), tree], { input: 'mosaic: merge probe\n', env })).stdout.trim();
  const baseCommit = await commit(base);
  const [a, b] = await Promise.all([commit(ours, baseCommit), commit(theirs, baseCommit)]);
  return mergeCommits(repoPath, a, b);
}

export interface Person {
  name: string;
  email: string;
}

export function identityEnv(author: Person, committer: Person, authorDate?: string): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: committer.name, GIT_COMMITTER_EMAIL: committer.email,
    ...(authorDate === undefined ? {} : { GIT_AUTHOR_DATE: authorDate }),
  };
}

/** The repository's configured user, or "Mosaic <mosaic@localhost>" where none is set. */
export async function repoIdentity(repoPath: string): Promise<Person> {
  const get = async (key: string): Promise<string> => {
    try {
      return (await runGit(repoPath, ['config', '--get', key])).stdout.trim();
    } catch {
      return '';
    }
  };
  const [name, email] = await Promise.all([get('user.name'), get('user.email')]);
  return name !== '' && email !== '' ? { name, email } : IDENTITY_FALLBACK;
}

/** Writes a commit object (never signed: no gpg program runs) and returns its id. */
export async function commitTree(repoPath: string, tree: string, parents: readonly string[], message: string,
  env: Record<string, string>): Promise<string> {
  const text = message.endsWith('\n') ? message : `${message}\n`;
  const args = ['commit-tree', '--no-gpg-sign', ...parents.flatMap((p) => ['-p', p]), tree];
  return (await runGit(repoPath, args, { input: text, env })).stdout.trim();
}

export interface CommitInfo {
  tree: string;
  parents: string[];
  author: Person;
  /** Raw author date as git stores it (`<unix seconds> <tz>`). */
  authorDate: string;
  message: string;
}

/** The parts of a commit a replay needs. */
export async function readCommit(repoPath: string, commit: string): Promise<CommitInfo> {
  const { stdout } = await runGit(repoPath, ['show', '-s', '--no-show-signature', '--format=%T%x00%P%x00%an%x00%ae%x00%ad%x00%B', '--date=raw', commit]);
  const [tree = '', parents = '', name = '', email = '', date = '', ...body] = stdout.split('\0');
  return {
    tree, parents: parents.split(' ').filter(Boolean), author: { name, email }, authorDate: date,
    message: body.join('\0').replace(/\n+$/, '\n'),
  };
}
