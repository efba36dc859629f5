import { describe, expect, it } from 'vitest';
import { publicAgent } from '../agents/index.js';
import { makeAgent } from '../test-support/store-records.js';
import { formatAgent, formatAgentTable, SHOWN_PROMPT_CHARS } from './agent-format.js';

/** Issue 22, defect 8: what `agents list` and `agents show` say about place, landing and the prompt. */
describe('agent formatting', () => {
  const now = Date.now();

  it('list: landed agents are marked, and next to a remote agent a local one says local', () => {
    const landed = publicAgent(makeAgent({ state: 'completed', landed: { commit: 'a'.repeat(40), into: 'main', strategy: 'merge', at: now } }));
    const open = publicAgent(makeAgent({ state: 'completed' }));
    const remote = { ...publicAgent(makeAgent({ state: 'running' })), instance: 'i'.repeat(32), peer: 'spoke' };
    const lines = formatAgentTable([landed, open, remote], now).split('\n');
    expect(lines[0]).toMatch(/INSTANCE/);
    const rowOf = (id: string) => lines.find((line) => line.startsWith(id)) ?? '';
    expect(rowOf(landed.id)).toMatch(/completed \(landed\).*\blocal\b/);
    expect(rowOf(open.id)).not.toContain('landed');
    expect(rowOf(open.id)).toMatch(/\blocal\b/);
    expect(rowOf(remote.id)).toMatch(/\bspoke\b/);
  });

  it('show: the prompt, bounded, saying how much more --json has', () => {
    const short = publicAgent(makeAgent({ prompt: 'fix the flaky test' }));
    expect(formatAgent(short, now)).toMatch(/\n\nprompt:\nfix the flaky test$/);
    const long = publicAgent(makeAgent({ prompt: 'x'.repeat(SHOWN_PROMPT_CHARS + 250) }));
    const text = formatAgent(long, now);
    expect(text).toContain(`${'x'.repeat(SHOWN_PROMPT_CHARS)}… (250 more characters: --json shows all)`);
    expect(text).not.toContain('x'.repeat(SHOWN_PROMPT_CHARS + 1));
  });
});
