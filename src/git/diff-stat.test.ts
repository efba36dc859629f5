import { describe, expect, it } from 'vitest';
import { diffStat } from './diff-stat.js';

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
