import { describe, expect, it } from 'vitest';
import { parseDiff } from './diff';

const DIFF = `diff --git a/a.txt b/a.txt
index 1111111..2222222 100644
--- a/a.txt
+++ b/a.txt
@@ -1,2 +1,2 @@
 keep
-old
+new
diff --git a/new.txt b/new.txt
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/new.txt
@@ -0,0 +1 @@
+hello
\\ No newline at end of file
diff --git a/old.txt b/renamed.txt
similarity index 100%
rename from old.txt
rename to renamed.txt
diff --git a/img.png b/img.png
Binary files a/img.png and b/img.png differ
`;

describe('parseDiff', () => {
  it('splits a git diff into files with counts, statuses and hunks', () => {
    const files = parseDiff(DIFF);
    expect(files.map((f) => [f.path, f.status, f.added, f.removed])).toEqual([
      ['a.txt', 'modified', 1, 1],
      ['new.txt', 'added', 1, 0],
      ['renamed.txt', 'renamed', 0, 0],
      ['img.png', 'binary', 0, 0],
    ]);
    expect(files[0]!.hunks[0]!.lines.map((l) => l.kind)).toEqual(['ctx', 'del', 'add']);
    expect(files[1]!.hunks[0]!.lines.map((l) => l.kind)).toEqual(['add', 'meta']);
    expect(files[2]!.from).toBe('old.txt');
  });

  it('is empty for no changes', () => {
    expect(parseDiff('')).toEqual([]);
  });
});
