import { describe, expect, it } from 'vitest';
import { cutText, fitResult, lastLinesWithin, MAX_TOOL_RESULT_BYTES } from './bounds.js';
import { diffStat } from './diff-stat.js';

const size = (r: { structured: unknown; text: string }) => Buffer.byteLength(r.text) + Buffer.byteLength(JSON.stringify(r.structured));

describe('fitResult', () => {
  it('leaves a result that fits alone', () => {
    const r = { structured: { a: 'x' }, text: 'ok' };
    expect(fitResult(r.structured, r.text)).toEqual(r);
  });

  it('cuts long strings, then long lists, and always ends under the budget with a note', () => {
    const manyAgents = { agents: Array.from({ length: 5000 }, (_, i) => ({ id: `a${i}`, prompt: 'x'.repeat(300) })) };
    const longText = { agent: { prompt: 'é'.repeat(200_000) } };
    for (const [structured, text] of [[manyAgents, 'list'], [longText, 'y'.repeat(300_000)]] as const) {
      const fitted = fitResult(structured as Record<string, unknown>, text);
      expect(size(fitted)).toBeLessThanOrEqual(MAX_TOOL_RESULT_BYTES);
      expect(fitted.structured.truncated).toBe(true);
      expect(fitted.text).toContain('Result cut to fit 100 KB');
    }
  });

  it('cuts text on a character boundary and keeps the last lines that fit', () => {
    const cut = cutText('ééééé', 7, '…');
    expect(cut).toBe('éé…');
    expect(lastLinesWithin(['aaa', 'bbb', 'ccc'], 8)).toEqual({ lines: ['bbb', 'ccc'], dropped: 1 });
  });
});

describe('diffStat', () => {
  it('counts added and removed lines per file, renames and binaries, not the headers', () => {
    const diff = [
      'diff --git a/a.txt b/a.txt', 'index 1..2 100644', '--- a/a.txt', '+++ b/a.txt', '@@ -1,2 +1,2 @@', '-old', '--- also removed', '+new', ' same',
      'diff --git a/old.md b/new.md', 'similarity index 90%', 'rename from old.md', 'rename to new.md',
      'diff --git a/img.png b/img.png', 'new file mode 100644', 'Binary files /dev/null and b/img.png differ', '',
    ].join('\n');
    expect(diffStat(diff)).toEqual({
      files: [{ path: 'a.txt', added: 1, removed: 2 }, { path: 'new.md', added: 0, removed: 0 }, { path: 'img.png', added: 0, removed: 0, binary: true }],
      filesChanged: 3, insertions: 1, deletions: 2,
    });
    expect(diffStat('')).toEqual({ files: [], filesChanged: 0, insertions: 0, deletions: 0 });
  });
});
