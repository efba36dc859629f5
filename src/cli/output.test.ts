import { describe, expect, it } from 'vitest';
import { formatAgentTable, formatRuntime, quoteArg } from './agent-format.js';
import { dash, formatDuration, formatFields, formatTable, formatTimestamp } from './output.js';
import { setupArgv } from './commands/repos.js';
import { runtimeFrom } from './commands/agent-spawn.js';
import type { PublicAgent } from '../agents/index.js';

describe('formatTable', () => {
  it('aligns columns, leaves no trailing blanks and flattens newlines', () => {
    const text = formatTable(['ID', 'STATE', 'NOTE'], [['a', 'running', 'x'], ['longer-id', 'failed', 'two\nlines'], ['b', 'ok', '']]);
    expect(text.split('\n')).toEqual([
      'ID         STATE    NOTE',
      'a          running  x',
      'longer-id  failed   two lines',
      'b          ok',
    ]);
  });

  it('aligns fields', () => {
    expect(formatFields([['id', '1'], ['worktree', '/w']])).toBe('id        1\nworktree  /w');
  });
});

describe('durations and timestamps', () => {
  it('formats durations at each scale', () => {
    expect([850, 12_000, 185_000, 7_380_000, 2 * 86_400_000 + 3_600_000].map(formatDuration)).toEqual(['850ms', '12s', '3m 05s', '2h 03m', '2d 01h']);
    expect(formatDuration(-1)).toBe('-');
  });

  it('formats timestamps in local time, dropping today\'s date when short', () => {
    const at = new Date(2024, 4, 1, 9, 5, 7).getTime();
    expect(formatTimestamp(at)).toBe('2024-05-01 09:05:07');
    expect(formatTimestamp(at, { short: true, now: at + 1000 })).toBe('09:05:07');
    expect(formatTimestamp(null)).toBe('-');
    expect(dash('')).toBe('-');
  });
});

describe('agent display', () => {
  it('quotes arguments that a shell would split', () => {
    expect(formatRuntime({ kind: 'command', argv: ['sh', '-c', "echo it's"] })).toBe(`command: sh -c 'echo it'\\''s'`);
    expect(quoteArg('a/b.txt')).toBe('a/b.txt');
    expect(formatRuntime({ kind: 'claude', model: 'opus', maxTurns: 3 })).toBe('claude (opus, 3 turns)');
  });

  it('adds an instance column only when remote agents are listed', () => {
    const agent = { id: 'a1', state: 'failed', taskId: 't', type: 'worker', repo: 'r', runtime: { kind: 'claude' }, error: { code: 'timeout', message: 'm' }, createdAt: 0, startedAt: 1000, endedAt: 4000 } as unknown as PublicAgent;
    const local = formatAgentTable([agent], 10_000);
    expect(local.split('\n')[0]).not.toContain('INSTANCE');
    expect(local).toMatch(/a1\s+failed \(timeout\)\s+t\s+worker\s+r\s+claude\s+10s ago\s+3s/);
    expect(formatAgentTable([{ ...agent, instance: 'abc', peer: 'laptop' }], 10_000)).toMatch(/INSTANCE[\s\S]*laptop$/);
  });
});

describe('option mapping', () => {
  it('runs --setup with sh -c, takes --setup-arg as the argv and refuses mixing them', () => {
    expect(setupArgv({ setup: 'npm ci && echo "a  b"' })).toEqual(['sh', '-c', 'npm ci && echo "a  b"']);
    expect(() => setupArgv({ setup: '  ' })).toThrow(/needs a command/);
    expect(setupArgv({ setupArg: ['sh', '-c', 'make all'] })).toEqual(['sh', '-c', 'make all']);
    expect(setupArgv({})).toBeUndefined();
    expect(() => setupArgv({ setup: 'x', setupArg: ['y'] })).toThrow(/either --setup or --setup-arg/);
  });

  it('derives the runtime from --runtime, the argv after -- and claude options', () => {
    expect(runtimeFrom({}, ['npm', 'test'])).toEqual({ kind: 'command', argv: ['npm', 'test'] });
    expect(runtimeFrom({}, [])).toBeUndefined();
    expect(runtimeFrom({ model: 'm', maxTurns: 2 }, [])).toEqual({ kind: 'claude', model: 'm', maxTurns: 2 });
    expect(() => runtimeFrom({ runtime: 'command' }, [])).toThrow(/after --/);
    expect(() => runtimeFrom({ runtime: 'claude' }, ['ls'])).toThrow(/needs --runtime command/);
    expect(() => runtimeFrom({ runtime: 'command', model: 'm' }, ['ls'])).toThrow(/claude runtime only/);
  });
});
