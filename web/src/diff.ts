/** A unified diff (as `git diff` writes it) split into files and hunks for display. */

export type DiffLineKind = 'add' | 'del' | 'ctx' | 'meta';
export interface DiffLine {
  kind: DiffLineKind;
  text: string;
}
export interface DiffHunk {
  header: string;
  lines: DiffLine[];
}
export interface DiffFile {
  path: string;
  /** The old path when the file was renamed. */
  from: string | undefined;
  status: 'added' | 'deleted' | 'renamed' | 'modified' | 'binary';
  added: number;
  removed: number;
  hunks: DiffHunk[];
}

const HEADER = /^diff --git a\/(.+?) b\/(.+)$/;

export function parseDiff(text: string): DiffFile[] {
  const files: DiffFile[] = [];
  let file: DiffFile | undefined;
  let hunk: DiffHunk | undefined;
  for (const line of text.split('\n')) {
    const header = HEADER.exec(line);
    if (header) {
      file = { path: header[2]!, from: undefined, status: 'modified', added: 0, removed: 0, hunks: [] };
      if (header[1] !== header[2]) file.from = header[1];
      files.push(file);
      hunk = undefined;
      continue;
    }
    if (!file) continue;
    if (line.startsWith('@@')) {
      hunk = { header: line, lines: [] };
      file.hunks.push(hunk);
      continue;
    }
    if (!hunk) {
      if (line.startsWith('new file mode')) file.status = 'added';
      else if (line.startsWith('deleted file mode')) file.status = 'deleted';
      else if (line.startsWith('rename from ')) {
        file.status = 'renamed';
        file.from = line.slice('rename from '.length);
      } else if (line.startsWith('Binary files')) file.status = 'binary';
      continue;
    }
    if (line.startsWith('+')) {
      file.added += 1;
      hunk.lines.push({ kind: 'add', text: line });
    } else if (line.startsWith('-')) {
      file.removed += 1;
      hunk.lines.push({ kind: 'del', text: line });
    } else if (line.startsWith('\\')) hunk.lines.push({ kind: 'meta', text: line });
    else if (line !== '' || hunk.lines.length > 0) hunk.lines.push({ kind: 'ctx', text: line });
  }
  // The split leaves a trailing empty context line after the last hunk.
  for (const f of files) {
    const last = f.hunks[f.hunks.length - 1];
    if (last && last.lines[last.lines.length - 1]?.text === '') last.lines.pop();
  }
  return files;
}
