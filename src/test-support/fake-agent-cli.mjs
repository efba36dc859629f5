#!/usr/bin/env node
/**
 * A stand-in for the Codex CLI, Gemini CLI and opencode that replays their
 * headless formats (as src/agents/runtimes/{codex,gemini,opencode}.ts
 * document them, after @openai/codex 0.171.0, @google/gemini-cli 0.61.0 and
 * opencode-ai 1.18.33), for tests. Which CLI it plays comes from its argv:
 * `exec …`/`login status` codex, `run …` opencode, `--output-format …` gemini.
 *
 * Mode: a `[fake:<mode>]` directive in the prompt, else `success`.
 *   success    init, a tool call, a file written and committed, text, usage, final event, exit 0
 *   error      the CLI's error event / failed result, exit 1
 *   crash      init and one event, then exit 0 without the final event
 *   auth       not logged in as the CLI says it (gemini: stderr + exit 41; opencode: an
 *              error event; codex: `login status` fails, see FAKE_CLI_LOGGED_OUT)
 *   ratelimit  a rate-limit refusal in the CLI's words, exit 1
 *   silent     prints nothing for 10 minutes (runtime_silent)
 *   spend      codex only: a `turn.completed` every 200 ms whose usage (the thread's running total)
 *              grows by 20,000 input (15,000 cached) and 1,000 output tokens each time, for 10 minutes
 * codex `login status`: "Not logged in", exit 1, when $FAKE_CLI_LOGGED_OUT=1; else logged in.
 * The argv (without node and script) goes to stderr as `fake-cli: argv [...]`.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const out = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (args[0] === 'login' && args[1] === 'status') {
  if (process.env.FAKE_CLI_LOGGED_OUT === '1') {
    process.stderr.write('Not logged in\n');
    process.exit(1);
  }
  process.stderr.write('Logged in using ChatGPT\n');
  process.exit(0);
}

const kind = args[0] === 'exec' ? 'codex' : args[0] === 'run' ? 'opencode' : 'gemini';
process.stderr.write(`fake-cli: argv ${JSON.stringify(args)}\n`);

function promptOf() {
  if (kind === 'gemini') return args.find((a) => a.startsWith('--prompt='))?.slice('--prompt='.length) ?? '';
  const dd = args.indexOf('--');
  return dd >= 0 ? (args[dd + 1] ?? '') : '';
}
const prompt = promptOf();
const mode = /\[fake:([a-z0-9-]+)\]/.exec(prompt)?.[1] ?? 'success';
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

/** Writes a file and commits it, like an agent at work. */
function work(file) {
  writeFileSync(file, `written by the fake ${kind}\n`);
  try {
    execFileSync('git', ['add', file], { stdio: 'ignore' });
    execFileSync('git', ['-c', 'user.name=fake', '-c', 'user.email=fake@example.com', 'commit', '-q', '-m', `fake ${kind}: ${file}`], { stdio: 'ignore' });
  } catch {
    // not a repository: the file alone will do
  }
}

async function codex() {
  const thread = flag('resume') ?? randomUUID();
  out({ type: 'thread.started', thread_id: thread });
  out({ type: 'turn.started' });
  if (mode === 'crash') return;
  if (mode === 'error') {
    out({ type: 'error', message: 'Reconnecting... 1/5 (stream disconnected before completion)' });
    out({ type: 'turn.failed', error: { message: 'unexpected status 400 Bad Request: model not supported' } });
    process.exitCode = 1;
    return;
  }
  if (mode === 'spend') {
    for (let n = 1; n <= 3000; n += 1) {
      out({ type: 'turn.completed', usage: { input_tokens: 20000 * n, cached_input_tokens: 15000 * n, output_tokens: 1000 * n, reasoning_output_tokens: 0 } });
      await sleep(200);
    }
    return;
  }
  if (mode === 'ratelimit') {
    out({ type: 'error', message: 'Reconnecting... 1/5 (unexpected status 429 Too Many Requests)' });
    out({ type: 'turn.failed', error: { message: 'exceeded retry limit, last status: 429 Too Many Requests, please try again in 20s' } });
    process.exitCode = 1;
    return;
  }
  out({ type: 'item.completed', item: { id: 'item_0', type: 'reasoning', text: '**Looking around**' } });
  out({ type: 'item.started', item: { id: 'item_1', type: 'command_execution', command: 'bash -lc ls', aggregated_output: '', exit_code: null, status: 'in_progress' } });
  out({ type: 'item.completed', item: { id: 'item_1', type: 'command_execution', command: 'bash -lc ls', aggregated_output: 'README.md\n', exit_code: 0, status: 'completed' } });
  work('FAKE_CODEX.md');
  out({ type: 'item.completed', item: { id: 'item_2', type: 'file_change', changes: [{ path: 'FAKE_CODEX.md', kind: 'add' }], status: 'completed' } });
  out({ type: 'item.completed', item: { id: 'item_3', type: 'agent_message', text: 'Added FAKE_CODEX.md.' } });
  out({ type: 'turn.completed', usage: { input_tokens: 20000, cached_input_tokens: 15000, output_tokens: 1000, reasoning_output_tokens: 400 } });
}

async function gemini() {
  const now = () => new Date().toISOString();
  if (mode === 'auth') {
    process.stderr.write('Please set an Auth method in /home/x/.gemini/settings.json or specify one of the following environment variables before running: GEMINI_API_KEY, GOOGLE_GENAI_USE_VERTEXAI, GOOGLE_GENAI_USE_GCA\n');
    process.exit(41);
  }
  out({ type: 'init', timestamp: now(), session_id: flag('--resume') ?? randomUUID(), model: flag('--model') ?? 'gemini-2.5-pro' });
  out({ type: 'message', timestamp: now(), role: 'user', content: prompt });
  out({ type: 'message', timestamp: now(), role: 'assistant', content: 'I will add ', delta: true });
  if (mode === 'crash') return;
  if (mode === 'error' || mode === 'ratelimit') {
    const message = mode === 'error' ? '[API Error: Model stream ended with an invalid chunk]' : '[API Error: You have exhausted your capacity on this model. Your quota will reset after 30s.] RESOURCE_EXHAUSTED';
    if (mode === 'ratelimit') out({ type: 'error', timestamp: now(), severity: 'error', message });
    out({ type: 'result', timestamp: now(), status: 'error', error: { type: 'Error', message }, stats: { total_tokens: 0, input_tokens: 0, output_tokens: 0, cached: 0, input: 0, duration_ms: 0, tool_calls: 0, models: {} } });
    process.exitCode = 1;
    return;
  }
  out({ type: 'message', timestamp: now(), role: 'assistant', content: 'the file.', delta: true });
  out({ type: 'tool_use', timestamp: now(), tool_name: 'write_file', tool_id: 'write_file-1', parameters: { file_path: 'FAKE_GEMINI.md' } });
  work('FAKE_GEMINI.md');
  out({ type: 'tool_result', timestamp: now(), tool_id: 'write_file-1', status: 'success', output: 'Successfully created and wrote to new file: FAKE_GEMINI.md.' });
  out({ type: 'message', timestamp: now(), role: 'assistant', content: 'Done: added FAKE_GEMINI.md.', delta: true });
  const model = flag('--model') ?? 'gemini-2.5-pro';
  out({
    type: 'result', timestamp: now(), status: 'success',
    stats: { total_tokens: 1500, input_tokens: 1200, output_tokens: 200, cached: 800, input: 400, duration_ms: 1234, tool_calls: 1, models: { [model]: { total_tokens: 1500, input_tokens: 1200, output_tokens: 200, cached: 800, input: 400 } } },
  });
}

async function opencode() {
  const session = flag('--session') ?? `ses_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
  const ev = (type, extra) => out({ type, timestamp: Date.now(), sessionID: session, ...extra });
  const part = (type, extra) => ({ id: `prt_${randomUUID().slice(0, 8)}`, sessionID: session, messageID: 'msg_1', type, ...extra });
  if (mode === 'auth') {
    ev('error', { error: { name: 'ProviderAuthError', data: { providerID: 'anthropic', message: 'No API key or login found for provider anthropic: run `opencode auth login`' } } });
    process.exitCode = 1;
    return;
  }
  ev('step_start', { part: part('step-start', {}) });
  if (mode === 'crash') return;
  if (mode === 'error' || mode === 'ratelimit') {
    const error = mode === 'error'
      ? { name: 'UnknownError', data: { message: 'Model not found: nope/nope' } }
      : { name: 'APIError', data: { message: 'Rate limit exceeded: try again in 2 minutes', statusCode: 429, isRetryable: true } };
    ev('error', { error });
    process.exitCode = 1;
    return;
  }
  work('FAKE_OPENCODE.md');
  ev('tool_use', { part: part('tool', { tool: 'write', callID: 'call_1', state: { status: 'completed', input: { filePath: 'FAKE_OPENCODE.md' }, output: '', title: 'FAKE_OPENCODE.md' } }) });
  ev('step_finish', { part: part('step-finish', { reason: 'tool-calls', cost: 0.0125, tokens: { input: 100, output: 50, reasoning: 10, cache: { read: 1000, write: 20 } } }) });
  ev('step_start', { part: part('step-start', {}) });
  ev('text', { part: part('text', { text: 'Added FAKE_OPENCODE.md.', time: { start: Date.now(), end: Date.now() } }) });
  ev('step_finish', { part: part('step-finish', { reason: 'stop', cost: 0.0025, tokens: { input: 30, output: 20, reasoning: 0, cache: { read: 1100, write: 0 } } }) });
}

if (mode === 'silent') {
  await sleep(10 * 60_000);
} else {
  await ({ codex, gemini, opencode })[kind]();
}
