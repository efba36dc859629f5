/**
 * Claude Code's stream-json output rendered for people, line by line, for
 * `mosaic agents logs`, MCP and A2A log tails through log-render.ts (the dashboard renders the same items in
 * web/src/stream-json.ts): assistant text as written, each tool call as one
 * line with a summary of its input, tool results shortened, the final result
 * with turns, duration and cost. Lines that are not stream-json (setup output,
 * command agents, stderr) are printed as they are.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

const RESULT_CHARS = 200;

/** The first line of `text`, cut to `max` characters, with `…` when anything was left out. */
export function shorten(text: string, max: number): string {
  const trimmed = text.trim();
  const line = trimmed.split('\n', 1)[0] ?? '';
  const cut = line.length > max ? `${line.slice(0, max - 1)}…` : line;
  return cut.length < trimmed.length && !cut.endsWith('…') ? `${cut} …` : cut;
}

/** The input field that says what a call does, for Claude Code's tools; otherwise the first string input. */
const SUMMARY_FIELDS: Record<string, string[]> = {
  Bash: ['command'], Read: ['file_path'], Write: ['file_path'], Edit: ['file_path'], MultiEdit: ['file_path'],
  NotebookEdit: ['notebook_path'], Glob: ['pattern', 'path'], Grep: ['pattern', 'path'], LS: ['path'],
  WebFetch: ['url'], WebSearch: ['query'], Task: ['description'],
};

export function toolSummary(name: string, input: unknown): string {
  if (!isObject(input)) return '';
  if (name === 'TodoWrite' && Array.isArray(input.todos)) return `${input.todos.length} todo${input.todos.length === 1 ? '' : 's'}`;
  const picked = (SUMMARY_FIELDS[name] ?? []).map((field) => str(input[field])).filter((v): v is string => Boolean(v));
  const text = picked.length > 0 ? picked.join(' in ') : Object.values(input).find((v): v is string => typeof v === 'string') ?? JSON.stringify(input);
  return shorten(text, 120);
}

function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('\n');
  return '';
}

function blocks(event: Json): Json[] {
  const message = event.message;
  return isObject(message) && Array.isArray(message.content) ? message.content.filter(isObject) : [];
}

function resultLines(event: Json): string[] {
  const ok = event.is_error !== true;
  const facts = [
    num(event.num_turns) !== undefined ? `${num(event.num_turns)} turns` : undefined,
    num(event.duration_ms) !== undefined ? `${Math.round(num(event.duration_ms)! / 1000)}s` : undefined,
    num(event.total_cost_usd) !== undefined ? `$${num(event.total_cost_usd)!.toFixed(4)}` : undefined,
  ].filter(Boolean);
  const errors = Array.isArray(event.errors) ? event.errors.filter((e): e is string => typeof e === 'string') : [];
  const text = str(event.result) ?? errors.join('\n');
  const head = `${ok ? '✓ done' : '✗ failed'}${facts.length > 0 ? ` (${facts.join(', ')})` : ''}`;
  return text.trim() === '' ? [head] : [head, text];
}

/** The lines one Claude Code stream-json line shows (none for bookkeeping such as rate-limit notices). */
export function renderClaudeLine(line: string): string[] {
  if (!line.startsWith('{')) return [line];
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return [line];
  }
  if (!isObject(event) || typeof event.type !== 'string') return [line];
  switch (event.type) {
    case 'system':
      return event.subtype === 'init' ? [`── session started${str(event.model) ? ` · ${str(event.model)}` : ''}`] : [];
    case 'assistant':
      return blocks(event).flatMap((block) => {
        if (block.type === 'text' && typeof block.text === 'string' && block.text.trim() !== '') return [block.text];
        if (block.type === 'tool_use') {
          const name = str(block.name) ?? 'tool';
          const summary = toolSummary(name, block.input);
          return [`▸ ${name}${summary ? `: ${summary}` : ''}`];
        }
        return [];
      });
    case 'user':
      return blocks(event).filter((block) => block.type === 'tool_result').map((block) => {
        const text = resultText(block.content);
        const lines = text.trim() === '' ? 0 : text.trim().split('\n').length;
        const more = lines > 1 ? ` (${lines} lines)` : '';
        return `  ↳ ${block.is_error === true ? 'error: ' : ''}${shorten(text, RESULT_CHARS) || '(no output)'}${more}`;
      });
    case 'result':
      return resultLines(event);
    default:
      return [];
  }
}
