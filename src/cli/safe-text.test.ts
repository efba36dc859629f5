import { describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { formatAgent, formatAgentTable, formatTransition } from './agent-format.js';
import { formatTable, safeText } from './output.js';

/** Control characters a terminal acts on: ESC, CSI/OSC introducers, BEL, CR, backspace, C1 CSI, bidi override. */
const DANGEROUS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/**
 * Issue 7, must-hold 11: peer text cannot drive a terminal. Values that came
 * from a peer (task ids, repo names, errors, summaries, log lines) lose
 * their escape sequences and show other control characters visibly.
 */
describe('terminal-safe output', () => {
  const hostile = '\u001b]0;pwned\u0007\u001b[2J\u001b[31mred\rover\bX\u009b1m\u202eevil';

  it('removes escape sequences and makes other control characters visible', () => {
    const out = safeText(hostile);
    expect(out).not.toMatch(DANGEROUS);
    expect(out).toBe('red\\x0dover\\x08X\\x9b1m\\u202eevil');
    expect(safeText('a\nb')).toBe('a\\nb');
    expect(safeText('a\nb', { multiline: true })).toBe('a\nb');
    expect(safeText('tab\tok')).toBe('tab\tok');
  });

  it('keeps every formatter that prints peer values free of control characters', () => {
    const now = Date.now();
    const agent = {
      id: 'a1', state: 'failed', taskId: hostile, type: 'worker', repo: `web${hostile}`, branch: hostile, baseBranch: 'main',
      worktreePath: hostile, runtime: { kind: 'command', argv: ['sh', hostile] }, prompt: hostile, priority: 5, timeoutS: null,
      origin: 'x', idempotencyKey: null, pid: null, pgid: null, port: null, exitCode: 1,
      error: { code: `boom${hostile}`, message: hostile }, result: { summary: `line1\n${hostile}` }, progress: null,
      killRequested: false, createdAt: now, startedAt: now, endedAt: now, updatedAt: now, instance: 'peerid', peer: hostile,
    } as unknown as PublicAgent;
    for (const text of [formatAgentTable([agent], now), formatAgent(agent, now), formatTransition(agent), formatTable(['A'], [[hostile]])]) {
      expect(text).not.toMatch(DANGEROUS);
      expect(text).toContain('red');
    }
  });
});
