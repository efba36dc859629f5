import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runDemo } from './demo.js';

describe('npm run demo', () => {
  it('federates two instances, runs three agents on the spoke through the hub, kills one and shows the diffs', async () => {
    const lines: string[] = [];
    await runDemo({ out: (line) => lines.push(line) });
    const text = lines.join('\n');

    const spawned = lines.filter((line) => /^ {3}spawned \w+ on spoke: /.test(line));
    expect(spawned).toHaveLength(3);
    const ids = spawned.map((line) => /spawned (\w+)/.exec(line)?.[1] ?? '');
    const [commits, edits, longJob] = ids as [string, string, string];

    expect(text).toContain("the 'command' runtime (any program as the agent) is granted for this demo only");
    expect(text).toMatch(/hub: {3}POST \/api\/v1\/federation\/connections \{url, token\} → 'spoke' active/);
    // Transitions arrive live on the hub's event stream, pushed by the spoke.
    expect(text).toMatch(new RegExp(`\\[hub event\\] #\\d+  ${longJob}  running`));
    expect(text).toMatch(new RegExp(`\\[hub event\\] #\\d+  ${longJob}  killed`));
    expect(text).toContain('[long-job] progress: step 3');
    expect(lines).toContain(`   ${longJob}: killed`);
    expect(lines).toContain(`   ${commits}: completed, 1 commit(s) ahead, 2 file(s) changed`);
    expect(lines).toContain(`   ${edits}: completed, 1 commit(s) ahead, 1 file(s) changed`);

    // The diffs came through the hub: the committed route and the snapshotted README edit.
    expect(text).toContain("+export const routes = ['/', '/health'];");
    expect(text).toContain('+    PORT=8080 node src/server.js');

    // The hub's final list (scope=all) shows all three on the spoke.
    const table = lines.slice(lines.findIndex((line) => line.includes('scope=all')) + 1);
    expect(table[0]).toMatch(/^ {3}ID\s+STATE\s+TASK.*INSTANCE$/);
    for (const [id, state] of [[commits, 'completed'], [edits, 'completed'], [longJob, 'killed']]) {
      expect(table).toContainEqual(expect.stringMatching(new RegExp(`^ {3}${id}\\s+${state}\\s+.*\\s+spoke$`)));
    }

    // Cleaned up: the temporary root is gone.
    const root = /'(\/.*)\/web'/.exec(text)?.[1];
    expect(root).toBeDefined();
    expect(existsSync(root as string)).toBe(false);
    expect(lines.at(-1)).toMatch(/^Done in \d+\.\ds\.$/);
  }, 45_000);
});
