/** Per-file line counts of a unified git diff, the way `git diff --stat` counts them. */
export interface DiffFileStat {
  path: string;
  added: number;
  removed: number;
  binary?: true;
}

export interface DiffStat {
  files: DiffFileStat[];
  filesChanged: number;
  insertions: number;
  deletions: number;
}

const HEADER = /^diff --git a\/(.*) b\/(.*)$/;

/**
 * Reads the stat from the diff text itself, so it works the same for local
 * agents and for remote ones (whose diff arrives as text from their peer).
 * Paths with characters git quotes come out as git wrote them.
 */
export function diffStat(diff: string): DiffStat {
  const files: DiffFileStat[] = [];
  let current: DiffFileStat | undefined;
  let inHunk = false;
  for (const line of diff.split('\n')) {
    const header = HEADER.exec(line);
    if (header) {
      current = { path: header[2]!, added: 0, removed: 0 };
      files.push(current);
      inHunk = false;
      continue;
    }
    if (!current) continue;
    if (line.startsWith('@@')) inHunk = true;
    else if (!inHunk && line.startsWith('rename to ')) current.path = line.slice('rename to '.length);
    else if (!inHunk && line.startsWith('Binary files ')) current.binary = true;
    else if (inHunk && line.startsWith('+')) current.added++;
    else if (inHunk && line.startsWith('-')) current.removed++;
  }
  return {
    files,
    filesChanged: files.length,
    insertions: files.reduce((sum, f) => sum + f.added, 0),
    deletions: files.reduce((sum, f) => sum + f.removed, 0),
  };
}
