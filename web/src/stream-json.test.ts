import { describe, expect, it } from 'vitest';
import { renderLine, summarizeToolInput } from './stream-json';

const line = (value: unknown) => JSON.stringify(value);

describe('stream-json for people', () => {
  it('shows assistant text and tool calls with a one-line summary of their input', () => {
    const items = renderLine(line({
      type: 'assistant',
      message: { content: [
        { type: 'text', text: 'I will look.' },
        { type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'npm test\n--watch=false', description: 'run tests' } },
        { type: 'tool_use', id: 't2', name: 'Read', input: { file_path: '/repo/src/a.ts' } },
      ] },
    }));
    expect(items).toEqual([
      { kind: 'text', text: 'I will look.' },
      { kind: 'tool', name: 'Bash', summary: 'npm test …' },
      { kind: 'tool', name: 'Read', summary: '/repo/src/a.ts' },
    ]);
  });

  it('summarizes any tool, known or not, in one bounded line', () => {
    expect(summarizeToolInput('Grep', { pattern: 'TODO', path: 'src' })).toBe('TODO in src');
    expect(summarizeToolInput('TodoWrite', { todos: [{}, {}] })).toBe('2 todos');
    expect(summarizeToolInput('mcp__x', { query: 'q'.repeat(500) })).toHaveLength(120);
    expect(summarizeToolInput('Other', { n: 1 })).toBe('{"n":1}');
    expect(summarizeToolInput('Other', 'not an object')).toBe('');
  });

  it('keeps tool results (string or parts) for folding, and marks errors', () => {
    expect(renderLine(line({ type: 'user', message: { content: [{ type: 'tool_result', content: 'a\nb', is_error: false }] } })))
      .toEqual([{ kind: 'tool-result', text: 'a\nb', isError: false }]);
    expect(renderLine(line({ type: 'user', message: { content: [{ type: 'tool_result', content: [{ type: 'text', text: 'boom' }], is_error: true }] } })))
      .toEqual([{ kind: 'tool-result', text: 'boom', isError: true }]);
  });

  it('shows the final result with turns and cost, and failures with their errors', () => {
    expect(renderLine(line({ type: 'result', subtype: 'success', is_error: false, result: 'Done.', total_cost_usd: 0.0123, num_turns: 2, duration_ms: 42 })))
      .toEqual([{ kind: 'result', ok: true, text: 'Done.', costUsd: 0.0123, turns: 2, durationMs: 42 }]);
    expect(renderLine(line({ type: 'result', is_error: true, errors: ['simulated failure'] }))[0]).toMatchObject({ kind: 'result', ok: false, text: 'simulated failure' });
  });

  it('leaves other output as it is and skips stream bookkeeping', () => {
    expect(renderLine('plain stderr line')).toEqual([{ kind: 'raw', text: 'plain stderr line' }]);
    expect(renderLine('{not json')).toEqual([{ kind: 'raw', text: '{not json' }]);
    expect(renderLine(line({ type: 'system', subtype: 'init', model: 'opus' }))).toEqual([{ kind: 'system', text: 'session started · opus' }]);
    expect(renderLine(line({ type: 'stream_event' }))).toEqual([]);
  });
});

describe('codex, gemini and opencode lines for people', () => {
  it('renders each format as the same items as claude\'s', () => {
    expect([
      { type: 'item.started', item: { id: 'i', type: 'command_execution', command: 'ls', status: 'in_progress' } },
      { type: 'item.completed', item: { id: 'i', type: 'command_execution', command: 'ls', aggregated_output: 'a', exit_code: 0, status: 'completed' } },
      { type: 'item.completed', item: { id: 'm', type: 'agent_message', text: 'Done.' } },
    ].flatMap((e) => renderLine(line(e)))).toEqual([
      { kind: 'tool', name: 'shell', summary: 'ls' }, { kind: 'tool-result', text: 'a', isError: false }, { kind: 'text', text: 'Done.' },
    ]);
    expect(renderLine(line({ type: 'result', status: 'error', error: { type: 'E', message: 'no auth' }, stats: { duration_ms: 5 } }))).toEqual([
      { kind: 'result', ok: false, text: 'no auth', costUsd: undefined, turns: undefined, durationMs: 5 },
    ]);
    expect(renderLine(line({ type: 'step_finish', timestamp: 1, sessionID: 's', part: { reason: 'stop', cost: 0.5 } }))).toEqual([
      { kind: 'result', ok: true, text: '', costUsd: 0.5, turns: undefined, durationMs: undefined },
    ]);
  });
});
