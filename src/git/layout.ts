import { runGit } from './run.js';

/** Where a repository keeps its git data: asked of git once per repository (it does not change while registered). */
export interface RepoLayout {
  /** The common git dir (`<repo>/.git` for a normal checkout), absolute. */
  commonDir: string;
  /** Its object directory, absolute. */
  objectsDir: string;
  /** `sha1` or `sha256`. */
  format: string;
}

const layouts = new Map<string, Promise<RepoLayout>>();

/** The layout of the repository at `repo` (a resolved top level), cached per process; a failed lookup is asked again next time. */
export function repoLayout(repo: string): Promise<RepoLayout> {
  let layout = layouts.get(repo);
  if (layout === undefined) {
    layout = runGit(repo, ['rev-parse', '--path-format=absolute', '--git-common-dir', '--git-path', 'objects', '--show-object-format']).then(({ stdout }) => {
      const [commonDir = '', objectsDir = '', format = 'sha1'] = stdout.trim().split('\n');
      return { commonDir, objectsDir, format };
    });
    layout.catch(() => layouts.delete(repo));
    layouts.set(repo, layout);
  }
  return layout;
}
