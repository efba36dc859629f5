import { performance } from 'node:perf_hooks';
import { runtimeOf } from '../src/agents/runtimes/index.js';
import type { RuntimeSpec } from '../src/agents/types.js';
import type { BenchResult } from './types.js';

/**
 * Parsing overhead of each stream runtime, per 1,000 lines of its format
 * (a realistic mix: text, tool calls and results, usage, a final event).
 * Baseline: JSON.parse of every line (the floor any reader pays). Mosaic:
 * the runtime's stream reader (`push` per line, then `summary`) plus its
 * rate-limit check (`rateLimitOf`) on every line, as the progress tracker
 * and the scheduler do. BENCH_RUNTIME_LINES (default 20,000) per runtime.
 */

const LINES = Number(process.env.BENCH_RUNTIME_LINES ?? 20_000);
const text = 'I looked at the file and will now change the function so that the test passes. '.repeat(3);

const claudeCycle = (i: number): object[] => [
  { type: 'assistant', message: { id: `m${i}`, content: [{ type: 'text', text }, { type: 'tool_use', id: `t${i}`, name: 'Edit', input: { file_path: 'src/a.ts' } }], usage: { input_tokens: 10, output_tokens: 200, cache_read_input_tokens: 5000 } }, session_id: 's' },
  { type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: `t${i}`, content: 'ok', is_error: false }] }, session_id: 's' },
];
const codexCycle = (i: number): object[] => [
  { type: 'item.started', item: { id: `c${i}`, type: 'command_execution', command: 'bash -lc "npm test"', aggregated_output: '', exit_code: null, status: 'in_progress' } },
  { type: 'item.completed', item: { id: `c${i}`, type: 'command_execution', command: 'bash -lc "npm test"', aggregated_output: 'ok 1 passed\n', exit_code: 0, status: 'completed' } },
  { type: 'item.completed', item: { id: `m${i}`, type: 'agent_message', text } },
];
const geminiCycle = (i: number): object[] => [
  { type: 'message', timestamp: '2026-12-06T00:00:00.000Z', role: 'assistant', content: text, delta: true },
  { type: 'tool_use', timestamp: '2026-12-06T00:00:00.000Z', tool_name: 'replace', tool_id: `t${i}`, parameters: { file_path: 'src/a.ts' } },
  { type: 'tool_result', timestamp: '2026-12-06T00:00:00.000Z', tool_id: `t${i}`, status: 'success', output: 'ok' },
];
const opencodeCycle = (i: number): object[] => [
  { type: 'step_start', timestamp: 1, sessionID: 'ses_1', part: { id: `p${i}`, type: 'step-start' } },
  { type: 'text', timestamp: 1, sessionID: 'ses_1', part: { id: `q${i}`, type: 'text', text } },
  { type: 'tool_use', timestamp: 1, sessionID: 'ses_1', part: { id: `r${i}`, type: 'tool', tool: 'edit', state: { status: 'completed', input: { filePath: 'src/a.ts' }, output: 'ok' } } },
  { type: 'step_finish', timestamp: 1, sessionID: 'ses_1', part: { id: `s${i}`, type: 'step-finish', reason: 'tool-calls', cost: 0.001, tokens: { input: 10, output: 200, reasoning: 5, cache: { read: 5000, write: 0 } } } },
];

const FORMATS: Array<{ spec: RuntimeSpec; first: object; cycle: (i: number) => object[]; last: object }> = [
  { spec: { kind: 'claude' }, first: { type: 'system', subtype: 'init', session_id: 's', model: 'claude-x' }, cycle: claudeCycle, last: { type: 'result', subtype: 'success', is_error: false, num_turns: 1, total_cost_usd: 1, usage: {} } },
  { spec: { kind: 'codex' }, first: { type: 'thread.started', thread_id: 't' }, cycle: codexCycle, last: { type: 'turn.completed', usage: { input_tokens: 1, cached_input_tokens: 0, output_tokens: 1 } } },
  { spec: { kind: 'gemini' }, first: { type: 'init', session_id: 's', model: 'gemini-2.5-pro' }, cycle: geminiCycle, last: { type: 'result', status: 'success', stats: { total_tokens: 3, input_tokens: 1, output_tokens: 1, cached: 0 } } },
  { spec: { kind: 'opencode' }, first: { type: 'step_start', timestamp: 1, sessionID: 'ses_1', part: { type: 'step-start' } }, cycle: opencodeCycle, last: { type: 'step_finish', timestamp: 1, sessionID: 'ses_1', part: { type: 'step-finish', reason: 'stop', cost: 0, tokens: {} } } },
];

function lines(format: (typeof FORMATS)[number]): string[] {
  const out = [JSON.stringify(format.first)];
  for (let i = 0; out.length < LINES - 1; i += 1) out.push(...format.cycle(i).map((o) => JSON.stringify(o)));
  out.length = LINES - 1;
  out.push(JSON.stringify(format.last));
  return out;
}

function best(runs: number, task: () => void): number {
  let min = Infinity;
  for (let r = 0; r < runs; r += 1) {
    const start = performance.now();
    task();
    min = Math.min(min, performance.now() - start);
  }
  return min;
}

export async function benchRuntimes(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const format of FORMATS) {
    const input = lines(format);
    const runtime = runtimeOf(format.spec);
    let sink = 0;
    const baseline = best(5, () => {
      for (const line of input) sink += (JSON.parse(line) as { type: string }).type.length;
    });
    const mosaic = best(5, () => {
      const stream = runtime.stream()!;
      for (const line of input) {
        sink += stream.push(line).length;
        if (runtime.rateLimitOf(line) !== null) sink += 1;
      }
      sink += stream.summary().turns ?? 0;
    });
    const per1000 = (ms: number): number => (ms * 1000) / input.length;
    results.push({
      name: `${format.spec.kind}: parse 1,000 stream lines`,
      baselineMs: per1000(baseline),
      mosaicMs: per1000(mosaic),
      ratio: mosaic / baseline,
      notes: `${input.length} lines, best of 5; baseline JSON.parse only${sink < 0 ? ' ' : ''}`,
    });
  }
  return results;
}
