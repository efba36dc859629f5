import { useEffect, useState } from 'preact/hooks';
import { api, messageOf } from '../api';
import { parseDiff, type DiffFile } from '../diff';

/** Larger diffs show their file list and the first files' hunks only. */
const MAX_LINES = 20_000;

function FileDiff({ file, index }: { file: DiffFile; index: number }) {
  return (
    <section class="diff-file" id={`file-${index}`} aria-label={file.path}>
      <h3>{file.from && file.from !== file.path ? `${file.from} → ${file.path}` : file.path} <span class="muted">({file.status})</span></h3>
      {file.hunks.map((hunk, h) => (
        <pre key={h} class="hunk">
          <span class="hunk-header">{hunk.header}</span>
          {'\n'}
          {hunk.lines.map((line, l) => <span key={l} class={`line line-${line.kind}`}>{line.text}{'\n'}</span>)}
        </pre>
      ))}
      {file.status === 'binary' && <p class="muted">Binary file.</p>}
    </section>
  );
}

/** The agent's changes against its base: a file list, then coloured hunks. */
export function Diff({ id, version }: { id: string; version: string }) {
  const [files, setFiles] = useState<DiffFile[] | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    let live = true;
    api.text(`/agents/${encodeURIComponent(id)}/diff`)
      .then((text) => live && (setFiles(parseDiff(text)), setError(undefined)))
      .catch((err: unknown) => live && setError(messageOf(err)));
    return () => {
      live = false;
    };
  }, [id, version]);

  if (error) return <p class="error" role="alert">{error}</p>;
  if (!files) return <p role="status">Loading the diff…</p>;
  if (files.length === 0) return <p class="empty">No changes against the base branch.</p>;
  let budget = MAX_LINES;
  const shown = files.filter((file) => {
    budget -= file.hunks.reduce((n, h) => n + h.lines.length, 0);
    return budget >= 0;
  });
  return (
    <section aria-label="Diff" class="diff">
      <ul class="diff-files" aria-label="Changed files">
        {files.map((file, i) => (
          <li key={file.path}>
            <a href={`#file-${i}`} onClick={(e) => { e.preventDefault(); document.getElementById(`file-${i}`)?.scrollIntoView(); }}>{file.path}</a>
            {' '}<span class="added">+{file.added}</span> <span class="removed">−{file.removed}</span>
          </li>
        ))}
      </ul>
      {shown.map((file, i) => <FileDiff key={file.path} file={file} index={i} />)}
      {shown.length < files.length && <p class="muted">{files.length - shown.length} more files are too large to show here; use <code>mosaic agents diff</code>.</p>}
    </section>
  );
}
