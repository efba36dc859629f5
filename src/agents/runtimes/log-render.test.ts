import { describe, expect, it } from 'vitest';
import { renderLogLine } from './log-render.js';

const render = (...objs: unknown[]): string[] => objs.flatMap((o) => renderLogLine(typeof o === 'string' ? o : JSON.stringify(o)));

describe('renderLogLine: every stream runtime rendered like claude\'s', () => {
  it('codex exec --json', () => {
    expect(render(
      { type: 'thread.started', thread_id: 't-1' },
      { type: 'turn.started' },
      { type: 'item.started', item: { id: 'i1', type: 'command_execution', command: 'bash -lc ls', status: 'in_progress' } },
      { type: 'item.completed', item: { id: 'i1', type: 'command_execution', command: 'bash -lc ls', aggregated_output: 'a\nb\n', exit_code: 0, status: 'completed' } },
      { type: 'item.completed', item: { id: 'i2', type: 'file_change', changes: [{ path: 'x.md', kind: 'add' }], status: 'completed' } },
      { type: 'item.completed', item: { id: 'i3', type: 'agent_message', text: 'Done.' } },
      { type: 'error', message: 'Reconnecting... 1/5' },
      { type: 'turn.completed', usage: { input_tokens: 10, cached_input_tokens: 5, output_tokens: 3 } },
    )).toEqual(['── session started · t-1', '▸ shell: bash -lc ls', '  ↳ a …', '▸ edit: add x.md', 'Done.', '  ! Reconnecting... 1/5', '✓ done (10 in / 3 out tokens)']);
    expect(render({ type: 'turn.failed', error: { message: 'boom' } })).toEqual(['✗ failed', 'boom']);
  });

  it('gemini stream-json', () => {
    expect(render(
      { type: 'init', session_id: 's', model: 'gemini-2.5-pro' },
      { type: 'message', role: 'user', content: 'the prompt' },
      { type: 'message', role: 'assistant', content: 'Hello', delta: true },
      { type: 'tool_use', tool_name: 'read_file', tool_id: 't1', parameters: { file_path: 'a.ts' } },
      { type: 'tool_result', tool_id: 't1', status: 'error', error: { type: 'X', message: 'no such file' } },
      { type: 'result', status: 'success', stats: { total_tokens: 30, input_tokens: 20, output_tokens: 5, cached: 0, duration_ms: 2000 } },
    )).toEqual(['── session started · gemini-2.5-pro', 'Hello', '▸ read_file: a.ts', '  ↳ error: no such file', '✓ done (2s, 20 in / 10 out tokens)']);
  });

  it('opencode run --format json', () => {
    const ev = (type: string, part: unknown) => ({ type, timestamp: 1, sessionID: 'ses_1', part });
    expect(render(
      ev('step_start', { type: 'step-start' }),
      ev('tool_use', { type: 'tool', tool: 'bash', state: { status: 'completed', input: { command: 'ls' }, output: 'x' } }),
      ev('step_finish', { type: 'step-finish', reason: 'tool-calls', cost: 0.01 }),
      ev('text', { type: 'text', text: 'All good.' }),
      ev('step_finish', { type: 'step-finish', reason: 'stop', cost: 0.002 }),
      { type: 'error', timestamp: 1, sessionID: 'ses_1', error: { name: 'APIError', data: { message: 'rate limited' } } },
    )).toEqual(['▸ bash: ls', '  ↳ x', 'All good.', '✓ done (step $0.0020)', '✗ failed', 'rate limited']);
  });

  it('keeps claude\'s rendering and prints anything else as written', () => {
    expect(render({ type: 'system', subtype: 'init', model: 'claude-x' })).toEqual(['── session started · claude-x']);
    expect(render('plain stderr', '{not json')).toEqual(['plain stderr', '{not json']);
  });
});
