/**
 * Codex (`exec --json`), Gemini CLI (`stream-json`) and opencode
 * (`run --format json`) lines as the same LogItems as Claude Code's
 * (stream-json.ts), told apart by their shape like the CLI's renderer
 * (src/agents/runtimes/log-render.ts). null: not one of these formats.
 */
import type { LogItem } from './stream-json';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const firstString = (input: unknown): string => (isObject(input) ? Object.values(input).find((v): v is string => typeof v === 'string') ?? '' : '');

function codex(event: Json): LogItem[] | null {
  const item = isObject(event.item) ? event.item : {};
  switch (event.type) {
    case 'thread.started': return [{ kind: 'system', text: 'session started' }];
    case 'turn.started': return [];
    case 'turn.completed': return [{ kind: 'result', ok: true, text: '', costUsd: undefined, turns: 1, durationMs: undefined }];
    case 'turn.failed': return [{ kind: 'result', ok: false, text: isObject(event.error) ? str(event.error.message) ?? '' : '', costUsd: undefined, turns: 1, durationMs: undefined }];
    case 'error': return typeof event.message === 'string' && event.severity === undefined ? [{ kind: 'system', text: event.message }] : null;
    case 'item.started': case 'item.updated': case 'item.completed': {
      const completed = event.type === 'item.completed';
      if (item.type === 'agent_message') return completed && str(item.text) ? [{ kind: 'text', text: str(item.text)! }] : [];
      if (item.type === 'command_execution') {
        if (event.type === 'item.started') return [{ kind: 'tool', name: 'shell', summary: str(item.command) ?? '' }];
        return completed ? [{ kind: 'tool-result', text: str(item.aggregated_output) ?? '', isError: item.status === 'failed' || (num(item.exit_code) ?? 0) !== 0 }] : [];
      }
      if (item.type === 'file_change' && completed) {
        const changes = Array.isArray(item.changes) ? item.changes.filter(isObject) : [];
        return [{ kind: 'tool', name: 'edit', summary: changes.map((c) => `${str(c.kind) ?? ''} ${str(c.path) ?? ''}`).join(', ') }];
      }
      if (item.type === 'error' && completed) return [{ kind: 'system', text: str(item.message) ?? '' }];
      return [];
    }
    default: return null;
  }
}

function gemini(event: Json): LogItem[] | null {
  switch (event.type) {
    case 'init': return [{ kind: 'system', text: `session started${str(event.model) ? ` · ${str(event.model)}` : ''}` }];
    case 'message': return event.role === 'assistant' && str(event.content) ? [{ kind: 'text', text: str(event.content)! }] : [];
    case 'tool_use': return typeof event.tool_name === 'string' ? [{ kind: 'tool', name: event.tool_name, summary: firstString(event.parameters) }] : null;
    case 'tool_result':
      return typeof event.tool_id === 'string'
        ? [{ kind: 'tool-result', text: event.status === 'error' && isObject(event.error) ? str(event.error.message) ?? '' : str(event.output) ?? '', isError: event.status === 'error' }]
        : null;
    case 'error': return typeof event.severity === 'string' ? [{ kind: 'system', text: str(event.message) ?? '' }] : null;
    case 'result': {
      if (typeof event.status !== 'string') return null;
      const stats = isObject(event.stats) ? event.stats : {};
      return [{ kind: 'result', ok: event.status !== 'error', text: isObject(event.error) ? str(event.error.message) ?? '' : '', costUsd: undefined, turns: undefined, durationMs: num(stats.duration_ms) }];
    }
    default: return null;
  }
}

function opencode(event: Json): LogItem[] | null {
  const part = isObject(event.part) ? event.part : {};
  switch (event.type) {
    case 'text': return str(part.text)?.trim() ? [{ kind: 'text', text: str(part.text)! }] : [];
    case 'tool_use': {
      const state = isObject(part.state) ? part.state : {};
      return [
        { kind: 'tool', name: str(part.tool) ?? 'tool', summary: firstString(state.input) },
        { kind: 'tool-result', text: state.status === 'error' ? str(state.error) ?? '' : str(state.output) ?? '', isError: state.status === 'error' },
      ];
    }
    case 'step_finish':
      return part.reason === 'tool-calls' ? [] : [{ kind: 'result', ok: true, text: '', costUsd: num(part.cost), turns: undefined, durationMs: undefined }];
    case 'error': {
      const error = isObject(event.error) ? event.error : {};
      const data = isObject(error.data) ? error.data : {};
      return [{ kind: 'result', ok: false, text: str(data.message) ?? str(error.name) ?? '', costUsd: undefined, turns: undefined, durationMs: undefined }];
    }
    default: return [];
  }
}

export function renderHeadless(event: Json): LogItem[] | null {
  if ('sessionID' in event) return opencode(event);
  return codex(event) ?? gemini(event);
}
