/**
 * Every stream runtime's output rendered for people, line by line
 * (`mosaic agents logs`, MCP `agent_logs`, A2A artifacts), the way Claude
 * Code's is (claude-log.ts): text as written, one `▸ tool: …` line per tool
 * call, `↳` results shortened, a `✓ done` / `✗ failed` line at the end.
 * Which format a line is in is told by its own shape (each CLI's `type`
 * names and fields differ), so callers need not know the runtime. Lines that
 * are not events (stderr, setup output, command agents) are shown as they are.
 */
import { renderClaudeLine, shorten, toolSummary } from './claude-log.js';
import { codexUsage } from './codex.js';
import { geminiUsage } from './gemini.js';
import { isObject, num, parseTypedLine, str, type Json } from './stream-util.js';

const RESULT_CHARS = 200;

function tokens(usage: { inputTokens: number; outputTokens: number } | undefined): string | undefined {
  return usage ? `${usage.inputTokens} in / ${usage.outputTokens} out tokens` : undefined;
}

function done(ok: boolean, facts: (string | undefined)[], text?: string): string[] {
  const shown = facts.filter(Boolean);
  const head = `${ok ? '✓ done' : '✗ failed'}${shown.length > 0 ? ` (${shown.join(', ')})` : ''}`;
  return text === undefined || text.trim() === '' ? [head] : [head, text];
}

function codexItem(event: Json): string[] {
  const item = isObject(event.item) ? event.item : {};
  const completed = event.type === 'item.completed';
  switch (item.type) {
    case 'agent_message':
      return completed && str(item.text)?.trim() ? [str(item.text)!] : [];
    case 'command_execution':
      if (event.type === 'item.started') return [`▸ shell: ${shorten(str(item.command) ?? '', 120)}`];
      if (!completed) return [];
      return [`  ↳ ${item.status === 'failed' || (num(item.exit_code) ?? 0) !== 0 ? `error (exit ${num(item.exit_code) ?? '?'}): ` : ''}${shorten(str(item.aggregated_output) ?? '', RESULT_CHARS) || '(no output)'}`];
    case 'file_change': {
      if (!completed) return [];
      const changes = Array.isArray(item.changes) ? item.changes.filter(isObject) : [];
      return [`▸ edit: ${changes.map((c) => `${str(c.kind) ?? '?'} ${str(c.path) ?? '?'}`).join(', ')}${item.status === 'failed' ? ' (failed)' : ''}`];
    }
    case 'mcp_tool_call':
      return event.type === 'item.started' ? [`▸ ${str(item.server) ?? '?'}/${str(item.tool) ?? '?'}${isObject(item.arguments) ? `: ${toolSummary('', item.arguments)}` : ''}`] : [];
    case 'web_search':
      return event.type === 'item.started' ? [`▸ web_search: ${shorten(str(item.query) ?? '', 120)}`] : [];
    case 'error':
      return completed ? [`  ! ${str(item.message) ?? ''}`] : [];
    default:
      return [];
  }
}

function renderCodex(event: Json): string[] | null {
  switch (event.type) {
    case 'thread.started': return [`── session started · ${str(event.thread_id) ?? ''}`];
    case 'turn.started': return [];
    case 'turn.completed': return done(true, [tokens(codexUsage(event.usage))]);
    case 'turn.failed': return done(false, [], isObject(event.error) ? str(event.error.message) : undefined);
    case 'item.started': case 'item.updated': case 'item.completed': return codexItem(event);
    case 'error': return typeof event.message === 'string' ? [`  ! ${event.message}`] : null;
    default: return null;
  }
}

function renderGemini(event: Json): string[] | null {
  switch (event.type) {
    case 'init': return [`── session started${str(event.model) ? ` · ${str(event.model)}` : ''}`];
    case 'message': return event.role === 'assistant' && str(event.content) ? [str(event.content)!] : [];
    case 'tool_use':
      return typeof event.tool_name === 'string' ? [`▸ ${event.tool_name}${isObject(event.parameters) ? `: ${toolSummary(event.tool_name, event.parameters)}` : ''}`] : null;
    case 'tool_result': {
      if (typeof event.tool_id !== 'string') return null;
      const error = isObject(event.error) ? str(event.error.message) : undefined;
      return [`  ↳ ${event.status === 'error' ? `error: ${shorten(error ?? '', RESULT_CHARS)}` : shorten(str(event.output) ?? '', RESULT_CHARS) || '(no output)'}`];
    }
    case 'error': return typeof event.severity === 'string' ? [`  ! ${str(event.message) ?? ''}`] : null;
    case 'result': {
      if (typeof event.status !== 'string') return null;
      const stats = isObject(event.stats) ? event.stats : {};
      const seconds = num(stats.duration_ms) !== undefined ? `${Math.round(num(stats.duration_ms)! / 1000)}s` : undefined;
      return done(event.status !== 'error', [seconds, tokens(geminiUsage(stats))], isObject(event.error) ? str(event.error.message) : undefined);
    }
    default: return null;
  }
}

function renderOpencode(event: Json): string[] | null {
  const part = isObject(event.part) ? event.part : undefined;
  switch (event.type) {
    case 'step_start': return part ? [] : null;
    case 'text': return part && str(part.text)?.trim() ? [str(part.text)!] : part ? [] : null;
    case 'reasoning': return part ? [] : null;
    case 'tool_use': {
      if (!part) return null;
      const state = isObject(part.state) ? part.state : {};
      const tool = str(part.tool) ?? 'tool';
      const input = isObject(state.input) ? `: ${toolSummary(tool, state.input)}` : '';
      const outcome = state.status === 'error' ? `error: ${shorten(str(state.error) ?? '', RESULT_CHARS)}` : shorten(str(state.output) ?? str(state.title) ?? '', RESULT_CHARS) || '(no output)';
      return [`▸ ${tool}${input}`, `  ↳ ${outcome}`];
    }
    case 'step_finish': {
      if (!part) return null;
      if (part.reason === 'tool-calls') return [];
      const cost = num(part.cost);
      return done(true, [cost !== undefined ? `step $${cost.toFixed(4)}` : undefined]);
    }
    case 'error': {
      if (!isObject(event.error)) return null;
      const data = isObject(event.error.data) ? event.error.data : {};
      return done(false, [], str(data.message) ?? str(event.error.name));
    }
    default: return null;
  }
}

/** The lines one log line shows, whichever runtime printed it. */
export function renderLogLine(line: string): string[] {
  const event = line.startsWith('{') ? parseTypedLine(line) : null;
  if (event === null) return [line];
  if ('sessionID' in event) return renderOpencode(event) ?? [line];
  return renderCodex(event) ?? renderGemini(event) ?? renderClaudeLine(line);
}
