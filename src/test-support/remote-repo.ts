import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { makeTestRepo, type TestRepo } from './test-repo.js';

/**
 * A shared remote for repositories registered by URL (issue 21): a bare
 * repository beside a working repository whose `main` it holds, reached as
 * `file://`. `commit` makes a commit in the working repository and pushes it
 * (the remote moving under the instances); `branch`/`show` read the remote.
 */
export interface TestRemote {
  /** The working repository (`repo.path`) and its temp directory (`repo.dir`, removed by cleanup). */
  repo: TestRepo;
  /** The bare repository's path. */
  bare: string;
  /** `file:///…/remote.git`. */
  url: string;
  /** The commit the remote's branch points to, or null when it has no such branch. */
  branch(name: string): string | null;
  /** `git show <rev>:<path>` in the remote, or null when it is not there. */
  show(rev: string, path: string): string | null;
  /** Commits `files` on the remote's main (through the working repository) and pushes it to the remote; returns the commit. */
  commit(files: Record<string, string>, message: string): string;
  cleanup(): void;
}

export function makeTestRemote(files: Record<string, string> = {}): TestRemote {
  const repo = makeTestRepo();
  for (const [rel, content] of Object.entries(files)) repo.write(rel, content);
  if (Object.keys(files).length > 0) repo.commitAll('fixture files');
  const bare = join(repo.dir, 'remote.git');
  repo.git(['clone', '-q', '--bare', repo.path, bare], repo.dir);
  const inBare = (args: string[]): string | null => {
    try {
      return execFileSync('git', ['-C', bare, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch {
      return null;
    }
  };
  return {
    repo, bare, url: pathToFileURL(bare).href,
    branch: (name) => inBare(['rev-parse', '--verify', '--quiet', `refs/heads/${name}`])?.trim() || null,
    show: (rev, path) => inBare(['show', `${rev}:${path}`]),
    commit(more, message) {
      // On top of what the remote holds now (the instances push landings to it).
      repo.git(['fetch', '-q', bare, 'main']);
      repo.git(['reset', '-q', '--hard', 'FETCH_HEAD']);
      for (const [rel, content] of Object.entries(more)) repo.write(rel, content);
      const commit = repo.commitAll(message);
      repo.git(['push', '-q', bare, 'main:main']);
      return commit;
    },
    cleanup: () => repo.cleanup(),
  };
}
