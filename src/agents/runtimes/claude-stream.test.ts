import { describe, expect, it } from 'vitest';
import { ClaudeStreamState, parseClaudeLine, summarizeClaudeLog } from './claude-stream.js';

/** Verbatim output of @anthropic-ai/claude-code 2.1.197 run without credentials (it exits 1). */
const REAL_AUTH_LOG = [
  '{"type":"system","subtype":"init","cwd":"/tmp/ccwd","session_id":"96cafc11-a1af-4b61-9632-c7a1a158e9d0","tools":["Task","Bash","CronCreate","CronDelete","CronList","DesignSync","EnterWorktree","ExitWorktree","Glob","Grep","NotebookEdit","Read","ReportFindings","ScheduleWakeup","SendMessage","Skill","TaskCreate","TaskGet","TaskList","TaskOutput","TaskStop","TaskUpdate","ToolSearch","WebFetch","WebSearch","Workflow"],"mcp_servers":[],"model":"claude-opus-4-8[1m]","permissionMode":"acceptEdits","slash_commands":["deep-research","design-sync","update-config","verify","debug","code-review","simplify","batch","fewer-permission-prompts","loop","claude-api","run","run-skill-generator","clear","compact","config","context","heapdump","init","reload-skills","review","security-review","usage","insights","goal","team-onboarding"],"apiKeySource":"none","claude_code_version":"2.1.197","output_style":"default","agents":["claude","Explore","general-purpose","Plan","statusline-setup"],"skills":["deep-research","design-sync","update-config","verify","debug","code-review","simplify","batch","fewer-permission-prompts","loop","claude-api","run","run-skill-generator"],"plugins":[],"analytics_disabled":false,"product_feedback_disabled":false,"uuid":"b985c6af-7092-4f48-a8a0-a2dc37ef8f13","memory_paths":{"auto":"/tmp/cchome/.claude/projects/-tmp-ccwd/memory/"},"fast_mode_state":"off"}',
  '{"type":"assistant","message":{"id":"442c49ca-7107-4ef2-bf34-64d69c4972eb","container":null,"model":"<synthetic>","role":"assistant","stop_details":null,"stop_reason":"stop_sequence","stop_sequence":"","type":"message","usage":{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"server_tool_use":{"web_search_requests":0,"web_fetch_requests":0},"service_tier":null,"cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":0},"inference_geo":null,"iterations":null,"speed":null},"content":[{"type":"text","text":"Not logged in · Please run /login"}],"context_management":null},"parent_tool_use_id":null,"session_id":"96cafc11-a1af-4b61-9632-c7a1a158e9d0","uuid":"45e08c07-df74-4287-bc62-ad1513d12da2","error":"authentication_failed"}',
  '{"type":"result","subtype":"success","is_error":true,"api_error_status":null,"duration_ms":234,"duration_api_ms":0,"num_turns":1,"result":"Not logged in · Please run /login","stop_reason":"stop_sequence","session_id":"96cafc11-a1af-4b61-9632-c7a1a158e9d0","total_cost_usd":0,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0,"server_tool_use":{"web_search_requests":0,"web_fetch_requests":0},"service_tier":"standard","cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":0},"inference_geo":"","iterations":[],"speed":"standard"},"modelUsage":{},"permission_denials":[],"terminal_reason":"completed","fast_mode_state":"off","uuid":"2e258a36-cd8f-491e-811f-76eccbf63737"}',
].join('\n');

const sid = 'sess-1';
const line = (obj: unknown): string => JSON.stringify(obj);
const init = line({ type: 'system', subtype: 'init', session_id: sid, model: 'claude-x', tools: ['Read', 'Edit'], cwd: '/w' });
const assistant = (id: string, content: unknown[], extra: object = {}) =>
  line({ type: 'assistant', message: { id, content, usage: { output_tokens: 3 } }, session_id: sid, ...extra });
const toolResult = (isError: boolean) =>
  line({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok', is_error: isError }] }, session_id: sid });
const usage = { input_tokens: 10, output_tokens: 20 };

describe('parseClaudeLine', () => {
  it('normalizes each line type', () => {
    expect(parseClaudeLine(init)).toEqual({ kind: 'init', sessionId: sid, model: 'claude-x', tools: ['Read', 'Edit'], cwd: '/w' });
    expect(parseClaudeLine(assistant('m1', [{ type: 'text', text: 'hi' }, { type: 'tool_use', id: 't1', name: 'Edit', input: {} }]))).toEqual({
      kind: 'assistant', messageId: 'm1', sessionId: sid, texts: ['hi'], toolUses: ['Edit'], usage: { output_tokens: 3 },
    });
    expect(parseClaudeLine(toolResult(true))).toEqual({ kind: 'tool_result', sessionId: sid, isError: true });
    expect(parseClaudeLine(line({ type: 'result', subtype: 'success', is_error: false, num_turns: 3, total_cost_usd: 0.5, usage, result: 'ok', session_id: sid }))).toEqual({
      kind: 'result', subtype: 'success', isError: false, numTurns: 3, costUsd: 0.5, usage, result: 'ok', sessionId: sid,
    });
    expect(parseClaudeLine(line({ type: 'stream_event', event: {} }))).toEqual({ kind: 'other', type: 'stream_event' });
  });

  it('returns null for anything that is not a typed JSON object, never throwing', () => {
    for (const junk of ['', '   ', 'npm WARN deprecated', '{not json', '[1,2]', '42', 'null', '"str"', '{"no_type":1}', '{"type":5}', '\0\0\0', '{"type":"result"']) {
      expect(parseClaudeLine(junk)).toBeNull();
    }
  });

  it('tolerates missing or mistyped fields', () => {
    expect(parseClaudeLine('{"type":"assistant"}')).toEqual({ kind: 'assistant', texts: [], toolUses: [] });
    expect(parseClaudeLine('{"type":"assistant","message":{"content":[null,1,{"type":"tool_use"}]}}')).toEqual({ kind: 'assistant', texts: [], toolUses: ['unknown'] });
    expect(parseClaudeLine('{"type":"result","is_error":"yes","num_turns":"3","total_cost_usd":null}')).toEqual({ kind: 'result', isError: false });
  });
});

describe('ClaudeStreamState', () => {
  it('turns a successful run into progress events and a summary', () => {
    const state = new ClaudeStreamState();
    const events = [
      init,
      'some stderr noise',
      assistant('m1', [{ type: 'text', text: 'Let me edit.' }, { type: 'tool_use', id: 't1', name: 'Edit', input: {} }]),
      toolResult(false),
      assistant('m2', [{ type: 'text', text: 'Done.' }]),
      line({ type: 'result', subtype: 'success', is_error: false, num_turns: 2, total_cost_usd: 0.0123, usage, result: 'All done', session_id: sid }),
    ].map((l) => state.push(l));
    expect(events).toEqual([
      { kind: 'init', sessionId: sid, model: 'claude-x' },
      null,
      { kind: 'assistant', turn: 1, text: 'Let me edit.', toolUses: ['Edit'], messageId: 'm1', usage: { output_tokens: 3 } },
      { kind: 'tool_result', isError: false },
      { kind: 'assistant', turn: 2, text: 'Done.', toolUses: [], messageId: 'm2', usage: { output_tokens: 3 } },
      { kind: 'result', isError: false, subtype: 'success', turns: 2, costUsd: 0.0123, resultText: 'All done' },
    ]);
    expect(state.summary()).toEqual({
      sessionId: sid, model: 'claude-x', turns: 2, costUsd: 0.0123, usage, isError: false, subtype: 'success',
      resultText: 'All done', lastText: 'Done.', sawResult: true,
    });
  });

  it('counts content blocks of one message split over several lines as one turn', () => {
    const state = new ClaudeStreamState();
    state.push(assistant('m1', [{ type: 'text', text: 'a' }]));
    const second = state.push(assistant('m1', [{ type: 'tool_use', id: 't', name: 'Bash', input: {} }]));
    const third = state.push(assistant('m2', [{ type: 'text', text: 'b' }]));
    expect(second).toMatchObject({ turn: 1, toolUses: ['Bash'] });
    expect(third).toMatchObject({ turn: 2 });
    expect(state.summary()).toMatchObject({ turns: 2, sawResult: false, isError: false });
  });
});

describe('summarizeClaudeLog', () => {
  it('reads the real unauthenticated CLI output as an error with its message', () => {
    const s = summarizeClaudeLog(`${REAL_AUTH_LOG}\n`);
    expect(s).toMatchObject({
      sawResult: true,
      isError: true,
      subtype: 'success', // the CLI says success and is_error at once: is_error decides
      sessionId: '96cafc11-a1af-4b61-9632-c7a1a158e9d0',
      assistantError: 'authentication_failed',
      resultText: 'Not logged in · Please run /login',
      turns: 1,
      costUsd: 0,
    });
    expect(s.errorMessage).toContain('Not logged in · Please run /login');
  });

  it('reads an error result, preferring its text, then its errors list', () => {
    const withText = summarizeClaudeLog([init, line({ type: 'result', subtype: 'error_max_turns', is_error: true, num_turns: 5, result: 'Reached max turns' })].join('\n'));
    expect(withText).toMatchObject({ isError: true, subtype: 'error_max_turns', turns: 5, errorMessage: 'Reached max turns' });
    const withErrors = summarizeClaudeLog(line({ type: 'result', subtype: 'error_during_execution', is_error: true, errors: ['boom', 'bang'] }));
    expect(withErrors).toMatchObject({ isError: true, errorMessage: 'boom; bang' });
    const bare = summarizeClaudeLog(line({ type: 'result', subtype: 'error_during_execution', is_error: true }));
    expect(bare.errorMessage).toBe('claude reported error_during_execution');
  });

  it('reports a stream cut short (crash) as no result, keeping what it saw', () => {
    const s = summarizeClaudeLog(`${init}\n${assistant('m1', [{ type: 'text', text: 'Working…' }])}\n{"type":"assist`);
    expect(s).toEqual({ sessionId: sid, model: 'claude-x', isError: false, sawResult: false, lastText: 'Working…', turns: 1 });
  });

  it('survives garbage, CRLF line ends and an empty log', () => {
    expect(summarizeClaudeLog('')).toEqual({ isError: false, sawResult: false });
    const messy = ['\u001b[31mred\u001b[0m', 'Error: something on stderr', init, '}{', line({ type: 'result', is_error: false, num_turns: 1, result: 'ok' })].join('\r\n');
    expect(summarizeClaudeLog(messy)).toMatchObject({ sawResult: true, isError: false, resultText: 'ok', sessionId: sid });
  });
});
