#!/usr/bin/env node
/**
 * A stand-in for the Claude Code CLI that prints its stream-json line format
 * (`claude -p … --output-format stream-json --verbose … -- <prompt>`), for tests.
 *
 * Mode: $FAKE_CLAUDE_MODE, else a `[fake:<mode>]` directive in the prompt,
 * else `review` when Write is disallowed (a reviewer's flags), else `success`.
 *   success      init, two assistant turns (one tool_use), writes FAKE_CLAUDE.md
 *                and commits it, leaves FAKE_UNCOMMITTED.txt uncommitted, result, exit 0
 *   review       init, a Read tool_use, result with a review text; touches no file
 *   error        result is_error / error_during_execution, exit 1
 *   error-exit0  the same, but exit 0
 *   crash        init and one assistant line, then exit 3 without a result
 *   auth         exactly what the unauthenticated real CLI prints, exit 1
 *   big-result   like review, but the result text is 1.5 MiB (an agent record larger than one federation message)
 *   shell        runs the prompt's text after `[fake:shell]` with `sh -c`, as a Bash tool call,
 *                and returns its output as the result; refuses when the argv allows no Bash
 *                (`--tools` without it, or `--disallowedTools` with it), as the real CLI would
 *   rate-limit   init, a `rate_limit_event` rejected whose resetsAt (epoch s) is $FAKE_CLAUDE_RESET_S
 *                (default 3) seconds ahead, an assistant error line and an error result, exit 1
 *                (the shape Claude Code 2.x prints when the subscription's limit is reached)
 *   slow         a line every 200 ms (for $FAKE_CLAUDE_SLOW_MS, default 10 min),
 *                with a grandchild `sleep` in the same process group
 * $FAKE_CLAUDE_ARGV_FILE: the argv received (JSON array, without node and script); the same JSON
 *   also goes to stderr as `fake-claude: argv [...]`, readable from the agent's log when the agent
 *   runs in a sandbox whose files the test cannot see.
 * $FAKE_CLAUDE_PID_FILE: `{"pid":…, "grandchildPid":…}` once running (slow mode has a grandchild).
 * A non-JSON line goes to stderr first, as the real log may mix in stderr.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
if (process.env.FAKE_CLAUDE_ARGV_FILE) writeFileSync(process.env.FAKE_CLAUDE_ARGV_FILE, JSON.stringify(args));

function flagValue(name) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : undefined;
}

// Like the real CLI: the prompt is the positional after `--`, or the first word after -p that is not an option.
function promptOf() {
  const dd = args.indexOf('--');
  if (dd >= 0) return args[dd + 1] ?? '';
  const p = args.findIndex((a) => a === '-p' || a === '--print');
  const next = p >= 0 ? args[p + 1] : undefined;
  return next !== undefined && !next.startsWith('-') ? next : '';
}

const prompt = promptOf();
const directive = /\[fake:([a-z0-9-]+)\]/.exec(prompt)?.[1];
const reviewer = (flagValue('--disallowedTools') ?? '').split(',').includes('Write');
const mode = process.env.FAKE_CLAUDE_MODE || directive || (reviewer ? 'review' : 'success');
const sessionId = randomUUID();
const model = flagValue('--model') ?? 'claude-fake-1';
const cwd = process.cwd();

const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const usage = { input_tokens: 120, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 48, service_tier: 'standard' };
const init = () =>
  emit({
    type: 'system', subtype: 'init', cwd, session_id: sessionId, model,
    tools: ['Bash', 'Edit', 'Glob', 'Grep', 'Read', 'Write'], mcp_servers: [],
    permissionMode: flagValue('--permission-mode') ?? 'default', apiKeySource: 'none', claude_code_version: 'fake',
    uuid: randomUUID(),
  });
const assistant = (content, extra = {}) =>
  emit({
    type: 'assistant',
    message: { id: `msg_${randomUUID()}`, type: 'message', role: 'assistant', model, content, stop_reason: null, usage },
    parent_tool_use_id: null, session_id: sessionId, uuid: randomUUID(), ...extra,
  });
const toolResult = (id, content) =>
  emit({
    type: 'user', message: { role: 'user', content: [{ tool_use_id: id, type: 'tool_result', content, is_error: false }] },
    parent_tool_use_id: null, session_id: sessionId, uuid: randomUUID(),
  });
const result = (fields) =>
  emit({
    type: 'result', subtype: 'success', is_error: false, duration_ms: 42, duration_api_ms: 40, num_turns: 2,
    session_id: sessionId, total_cost_usd: 0.0123, usage, permission_denials: [], uuid: randomUUID(), ...fields,
  });
const writePids = (extra = {}) => {
  if (process.env.FAKE_CLAUDE_PID_FILE) writeFileSync(process.env.FAKE_CLAUDE_PID_FILE, JSON.stringify({ pid: process.pid, ...extra }));
};

function git(...gitArgs) {
  // Fall back to a fixed identity only where the repository has none.
  let hasIdentity = true;
  try {
    execFileSync('git', ['config', 'user.email'], { cwd, stdio: 'ignore' });
  } catch {
    hasIdentity = false;
  }
  const identity = hasIdentity ? [] : ['-c', 'user.name=Fake Claude', '-c', 'user.email=fake-claude@example.invalid'];
  return execFileSync('git', [...identity, ...gitArgs], { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

function success() {
  init();
  const toolId = `toolu_${randomUUID().slice(0, 8)}`;
  assistant([
    { type: 'text', text: 'I will create FAKE_CLAUDE.md and commit it.' },
    { type: 'tool_use', id: toolId, name: 'Write', input: { file_path: join(cwd, 'FAKE_CLAUDE.md'), content: '…' } },
  ]);
  try {
    writeFileSync(join(cwd, 'FAKE_CLAUDE.md'), `# Fake Claude\n\nPrompt: ${prompt}\n`);
    git('add', 'FAKE_CLAUDE.md');
    git('commit', '-q', '-m', 'fake-claude: add FAKE_CLAUDE.md');
    writeFileSync(join(cwd, 'FAKE_UNCOMMITTED.txt'), 'work in progress\n');
  } catch (err) {
    result({ subtype: 'error_during_execution', is_error: true, num_turns: 1, result: `fake-claude: git failed: ${err.message}` });
    process.exitCode = 1;
    return;
  }
  toolResult(toolId, 'File created successfully');
  assistant([{ type: 'text', text: 'Done: FAKE_CLAUDE.md is committed.' }]);
  result({ result: 'Created FAKE_CLAUDE.md and committed it.' });
}

function review() {
  init();
  const toolId = `toolu_${randomUUID().slice(0, 8)}`;
  assistant([{ type: 'tool_use', id: toolId, name: 'Read', input: { file_path: join(cwd, 'README.md') } }]);
  toolResult(toolId, 'contents');
  assistant([{ type: 'text', text: 'Review written.' }]);
  result({ result: 'Review: no blocking issues found. Verdict: approve.' });
}

function bigResult() {
  init();
  assistant([{ type: 'text', text: 'Writing a very long answer.' }]);
  result({ result: `BIG:${'x'.repeat(1536 * 1024)}` });
}

function error(exitCode) {
  init();
  assistant([{ type: 'text', text: 'Trying something that fails.' }]);
  result({ subtype: 'error_during_execution', is_error: true, num_turns: 1, errors: ['fake-claude: simulated failure'] });
  process.exitCode = exitCode;
}

function crash() {
  init();
  assistant([{ type: 'text', text: 'Working on it…' }]);
  process.exit(3);
}

/** Byte-for-byte the shape printed by @anthropic-ai/claude-code 2.1.197 without credentials. */
function auth() {
  emit({
    type: 'system', subtype: 'init', cwd, session_id: sessionId, tools: ['Task', 'Bash', 'Glob', 'Grep', 'Read'],
    mcp_servers: [], model: 'claude-opus-4-8[1m]', permissionMode: flagValue('--permission-mode') ?? 'default',
    slash_commands: [], apiKeySource: 'none', claude_code_version: '2.1.197', output_style: 'default', agents: [],
    skills: [], plugins: [], uuid: randomUUID(), fast_mode_state: 'off',
  });
  const zero = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  emit({
    type: 'assistant',
    message: {
      id: randomUUID(), container: null, model: '<synthetic>', role: 'assistant', stop_details: null,
      stop_reason: 'stop_sequence', stop_sequence: '', type: 'message', usage: zero,
      content: [{ type: 'text', text: 'Not logged in · Please run /login' }], context_management: null,
    },
    parent_tool_use_id: null, session_id: sessionId, uuid: randomUUID(), error: 'authentication_failed',
  });
  emit({
    type: 'result', subtype: 'success', is_error: true, api_error_status: null, duration_ms: 234, duration_api_ms: 0,
    num_turns: 1, result: 'Not logged in · Please run /login', stop_reason: 'stop_sequence', session_id: sessionId,
    total_cost_usd: 0, usage: { ...zero, service_tier: 'standard' }, modelUsage: {}, permission_denials: [],
    terminal_reason: 'completed', fast_mode_state: 'off', uuid: randomUUID(),
  });
  process.exitCode = 1;
}

function rateLimit() {
  init();
  const resetsAt = Math.ceil(Date.now() / 1000) + Number(process.env.FAKE_CLAUDE_RESET_S ?? 3);
  emit({
    type: 'rate_limit_event',
    rate_limit_info: { status: 'rejected', resetsAt, rateLimitType: 'five_hour', overageStatus: 'rejected', isUsingOverage: false },
    uuid: randomUUID(), session_id: sessionId,
  });
  assistant([{ type: 'text', text: `Claude AI usage limit reached|${resetsAt}` }], { error: 'rate_limit' });
  result({ subtype: 'success', is_error: true, num_turns: 1, result: `Claude AI usage limit reached|${resetsAt}`, total_cost_usd: 0 });
  process.exitCode = 1;
}

function slow() {
  init();
  // Same process group (not detached): a kill must reach it through the group.
  const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
  sleeper.unref();
  writePids({ grandchildPid: sleeper.pid });
  const until = Date.now() + Number(process.env.FAKE_CLAUDE_SLOW_MS ?? 600_000);
  let n = 0;
  const timer = setInterval(() => {
    n += 1;
    assistant([{ type: 'text', text: `tick ${n}` }]);
    if (Date.now() >= until) {
      clearInterval(timer);
      result({ num_turns: n, result: `ticked ${n} times` });
    }
  }, 200);
}

function shell() {
  init();
  const tools = flagValue('--tools');
  const disallowed = (flagValue('--disallowedTools') ?? '').split(',');
  const command = /\[fake:shell\]\s*([\s\S]*)$/.exec(prompt)?.[1] ?? '';
  if ((tools !== undefined && !tools.split(',').includes('Bash')) || disallowed.includes('Bash')) {
    assistant([{ type: 'text', text: 'I have no shell tool here.' }]);
    result({ result: 'shell refused: no Bash tool' });
    return;
  }
  const toolId = `toolu_${randomUUID().slice(0, 8)}`;
  assistant([{ type: 'tool_use', id: toolId, name: 'Bash', input: { command } }]);
  let out;
  try {
    out = execFileSync('sh', ['-c', command], { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (err) {
    out = `command failed: ${String(err.stderr ?? err.message)}`;
  }
  toolResult(toolId, out);
  result({ result: out });
}

process.stderr.write(`fake-claude: mode ${mode}\nfake-claude: argv ${JSON.stringify(args)}\n`);
if (mode !== 'slow') writePids();
const modes = { success, review, shell, 'big-result': bigResult, error: () => error(1), 'error-exit0': () => error(0), crash, auth, slow, 'rate-limit': rateLimit };
const run = modes[mode];
if (run === undefined) {
  process.stderr.write(`fake-claude: unknown mode ${mode}\n`);
  process.exit(64);
}
run();
