import { renderHeadless } from './headless-log';

/**
 * Claude Code's `--output-format stream-json` lines (and, through
 * headless-log.ts, codex's, gemini's and opencode's), turned into things a person
 * reads: assistant text, tool calls with a one-line summary of their input,
 * tool results (folded by the view), and the final result with its cost.
 * Lines that are not events (command agents, stderr) stay as they are.
 */

export type LogItem =
  | { kind: 'text'; text: string }
  | { kind: 'tool'; name: string; summary: string }
  | { kind: 'tool-result'; text: string; isError: boolean }
  | { kind: 'result'; ok: boolean; text: string; costUsd: number | undefined; turns: number | undefined; durationMs: number | undefined }
  | { kind: 'system'; text: string }
  | { kind: 'raw'; text: string };

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const firstLine = (text: string, max = 120): string => {
  const line = text.split('\n', 1)[0] ?? '';
  const more = line.length < text.length;
  return line.length > max ? `${line.slice(0, max - 1)}…` : more ? `${line} …` : line;
};

/** The input field that says what a tool call does, for the tools Claude Code has. */
const SUMMARY_FIELDS: Record<string, string[]> = {
  Bash: ['command'],
  Read: ['file_path'],
  Write: ['file_path'],
  Edit: ['file_path'],
  MultiEdit: ['file_path'],
  NotebookEdit: ['notebook_path'],
  Glob: ['pattern', 'path'],
  Grep: ['pattern', 'path'],
  LS: ['path'],
  WebFetch: ['url'],
  WebSearch: ['query'],
  Task: ['description'],
};

export function summarizeToolInput(name: string, input: unknown): string {
  if (!isObject(input)) return '';
  if (name === 'TodoWrite' && Array.isArray(input.todos)) return `${input.todos.length} todo${input.todos.length === 1 ? '' : 's'}`;
  const fields = SUMMARY_FIELDS[name];
  const picked = fields?.map((field) => str(input[field])).filter((value): value is string => Boolean(value));
  if (picked && picked.length > 0) return firstLine(picked.join(' in '));
  const anyString = Object.values(input).find((value): value is string => typeof value === 'string');
  if (anyString !== undefined) return firstLine(anyString);
  return firstLine(JSON.stringify(input));
}

function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : isObject(part) ? `[${String(part.type)}]` : '')).join('\n');
  }
  return content === undefined ? '' : JSON.stringify(content);
}

function contentOf(event: Json): unknown[] {
  const message = event.message;
  return isObject(message) && Array.isArray(message.content) ? message.content : [];
}

/** What one log line shows; most lines are one item, an assistant turn may be several. */
export function renderLine(line: string): LogItem[] {
  if (!line.startsWith('{')) return [{ kind: 'raw', text: line }];
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return [{ kind: 'raw', text: line }];
  }
  if (!isObject(event) || typeof event.type !== 'string') return [{ kind: 'raw', text: line }];
  const headless = renderHeadless(event);
  if (headless !== null) return headless;
  switch (event.type) {
    case 'system': {
      if (event.subtype !== 'init') return [];
      const model = str(event.model);
      return [{ kind: 'system', text: `session started${model ? ` · ${model}` : ''}` }];
    }
    case 'assistant': {
      const items: LogItem[] = [];
      for (const block of contentOf(event)) {
        if (!isObject(block)) continue;
        if (block.type === 'text' && typeof block.text === 'string' && block.text.trim() !== '') items.push({ kind: 'text', text: block.text });
        else if (block.type === 'tool_use') {
          const name = str(block.name) ?? 'tool';
          items.push({ kind: 'tool', name, summary: summarizeToolInput(name, block.input) });
        }
      }
      return items;
    }
    case 'user': {
      const items: LogItem[] = [];
      for (const block of contentOf(event)) {
        if (isObject(block) && block.type === 'tool_result') {
          items.push({ kind: 'tool-result', text: toolResultText(block.content), isError: block.is_error === true });
        }
      }
      return items;
    }
    case 'result': {
      const errors = Array.isArray(event.errors) ? event.errors.filter((e): e is string => typeof e === 'string') : [];
      const text = str(event.result) ?? errors.join('\n');
      return [{
        kind: 'result',
        ok: event.is_error !== true,
        text,
        costUsd: num(event.total_cost_usd),
        turns: num(event.num_turns),
        durationMs: num(event.duration_ms),
      }];
    }
    default:
      return [];
  }
}
