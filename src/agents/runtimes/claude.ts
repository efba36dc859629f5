/**
 * The `claude` runtime: Claude Code run headless, printing stream-json.
 *
 * Flags were checked against the real CLI (`@anthropic-ai/claude-code`
 * 2.1.197, `claude --help` and unauthenticated runs):
 * - `-p/--print` is a boolean flag and the prompt is a *positional*
 *   argument. A prompt placed right after `-p` that starts with `-` is read
 *   as an option (`claude -p "-x fix"` → "error: unknown option '-x fix'"),
 *   and `--allowedTools`/`--disallowedTools`/`--tools` are variadic
 *   (`<tools...>`), so they would swallow a following positional. The prompt
 *   therefore goes last, after `--`, which ends option parsing: any prompt
 *   text, including one starting with `-` or `--`, stays the prompt.
 * - `--max-turns` is accepted though not listed in `--help`.
 * - `--permission-mode` choices: acceptEdits, auto, bypassPermissions,
 *   default, dontAsk, plan (the CLI rejects anything else with exit 1).
 * - `--tools` restricts the set of built-in tools the model sees (verified:
 *   `--tools Read,Glob,Grep` makes the init line list exactly those), while
 *   `--allowedTools` only pre-approves tools so they run without a permission
 *   prompt, which headless runs cannot answer.
 * - Project configuration is code (verified with 2.1.332, offline): without
 *   flags the CLI runs the SessionStart hooks of `.claude/settings.json` and
 *   `.claude/settings.local.json` and starts the `.mcp.json` servers before it
 *   even finds it is not logged in, and loads the project's skills, subagents
 *   and slash commands. `--setting-sources user` reads neither project nor
 *   local settings files (the init line then lists none of the project's
 *   skills, agents, commands or MCP servers); `--settings` with
 *   `{"disableAllHooks":true}` stops user-level hooks too; `--strict-mcp-config`
 *   with an empty `--mcp-config` starts no MCP server from anywhere.
 */
import { invalid } from '../../core/errors.js';
import type { AgentType, ClaudeRuntime } from '../types.js';
import { ClaudeRunStream } from './claude-run.js';
import { checkBin, checkPrompt } from './prompt.js';
import { claudeRateLimitOfLine } from './rate-limit.js';
import type { AgentRuntime, Invocation } from './runtime.js';

export const PERMISSION_MODES = ['acceptEdits', 'auto', 'bypassPermissions', 'default', 'dontAsk', 'plan'] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];

export const MAX_TURNS_LIMIT = 10_000;
/** Aliases (`sonnet`), full names (`claude-opus-4-8[1m]`), Bedrock/Vertex ids and ARNs; never a leading `-`. */
const MODEL_RE = /^[A-Za-z0-9][A-Za-z0-9._:/@[\]-]{0,199}$/;

/** Editing and shell tools: the worker and tester commit their own work. */
const EDIT_TOOLS = ['Bash', 'Edit', 'Write', 'NotebookEdit', 'Read', 'Glob', 'Grep'];
const READ_TOOLS = ['Read', 'Glob', 'Grep'];
const WRITE_TOOLS = ['Bash', 'Edit', 'Write', 'NotebookEdit'];

const COMMON_ROLE =
  'You run unattended as a Mosaic agent in your own git worktree, on a branch created for this task. ' +
  'Nobody will answer questions: make reasonable decisions and carry on. ' +
  'Do not push, do not switch or create branches, and do not touch files outside this worktree.';

export const ROLE_PROMPTS: Record<AgentType, string> = {
  worker:
    `${COMMON_ROLE} You are a worker: make the change the task asks for, run the project's relevant checks, ` +
    'and commit your work to the current branch with clear commit messages before you finish. ' +
    'End with a short summary of what you changed.',
  reviewer:
    `${COMMON_ROLE} You are a reviewer: read the code and review it as the task asks. ` +
    'Do not modify, create or delete any file and do not commit: your tools are read-only. ' +
    'Return the complete review as your final message: findings ordered by severity, each with file and line, ' +
    'then an overall verdict.',
  tester:
    `${COMMON_ROLE} You are a tester: write or extend automated tests for the behaviour the task describes, ` +
    'run them, fix the tests (not the code under test, unless the task says so), and commit the tests to the ' +
    'current branch. End with which tests you added and what passed or failed.',
};

/** Claude Code's tools that run shell commands. */
const SHELL_TOOLS = ['Bash', 'BashOutput', 'KillShell', 'KillBash'];

function typeArgs(type: AgentType, shell: boolean): string[] {
  if (!shell && type !== 'reviewer') {
    // A grant without shell: the model sees only the editing tools (`--tools`), and the shell ones are denied outright.
    const tools = EDIT_TOOLS.filter((t) => !SHELL_TOOLS.includes(t));
    return ['--tools', tools.join(','), '--allowedTools', tools.join(','), '--disallowedTools', SHELL_TOOLS.join(',')];
  }
  if (type === 'reviewer') {
    return [
      '--tools', READ_TOOLS.join(','),
      '--allowedTools', READ_TOOLS.join(','),
      '--disallowedTools', WRITE_TOOLS.join(','),
    ];
  }
  return ['--allowedTools', EDIT_TOOLS.join(',')];
}

/** Claude Code session ids are UUIDs; anything option-like or odd is refused. */
export const SESSION_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

function validateSpec(runtime: ClaudeRuntime): void {
  const { model, maxTurns, permissionMode, resume } = runtime;
  if (resume !== undefined && (typeof resume !== 'string' || !SESSION_RE.test(resume))) {
    throw invalid('invalid_runtime', `runtime.resume must match ${SESSION_RE.source}`, { field: 'runtime.resume' });
  }
  if (model !== undefined && (typeof model !== 'string' || !MODEL_RE.test(model))) {
    throw invalid('invalid_runtime', `runtime.model must match ${MODEL_RE.source}`, { field: 'runtime.model' });
  }
  if (maxTurns !== undefined && (!Number.isInteger(maxTurns) || maxTurns < 1 || maxTurns > MAX_TURNS_LIMIT)) {
    throw invalid('invalid_runtime', `runtime.maxTurns must be an integer in 1..${MAX_TURNS_LIMIT}`, { field: 'runtime.maxTurns' });
  }
  if (permissionMode !== undefined && !(PERMISSION_MODES as readonly string[]).includes(permissionMode)) {
    throw invalid('invalid_runtime', `runtime.permissionMode must be one of ${PERMISSION_MODES.join(', ')}`, {
      field: 'runtime.permissionMode',
    });
  }
}

/**
 * What keeps Claude Code from loading the repository's own configuration
 * (hooks, status line, apiKeyHelper, env, permissions, plugins, skills,
 * subagents, commands: all read from `.claude/settings*.json` and
 * `.claude/`), and from starting any MCP server (`.mcp.json`, or the
 * per-project servers of `~/.claude.json`): user settings only, and an
 * explicit, empty MCP configuration. Mosaic's own settings on top switch off
 * every hook, user-level ones too: in the sandbox the user settings file is
 * in the agent's private HOME, which the agent itself can write while it runs.
 */
export const NO_PROJECT_CONFIG_ARGS: readonly string[] = [
  '--setting-sources', 'user',
  '--settings', JSON.stringify({ disableAllHooks: true }),
  '--strict-mcp-config', '--mcp-config', JSON.stringify({ mcpServers: {} }),
];

export interface ClaudeInvocationOptions {
  claudeBin: string;
  prompt: string;
  type: AgentType;
  /** Shell tools allowed (default true; a peer's grant may say no). */
  shell?: boolean;
  /**
   * Whether the runtime may load the configuration the repository carries
   * (README.md here; decided by runtimes/project-config.ts). Required, so no
   * caller forgets: a repository's config can run programs.
   */
  projectConfig: boolean;
  /** The agent's budget: Claude Code stops itself at it (`--max-budget-usd`); Mosaic also kills past it. */
  budgetUsd?: number | null;
}

/**
 * `claude -p --output-format stream-json --verbose [--model M] [--max-turns N]
 * [--permission-mode P] [no-project-config flags] --append-system-prompt <role> <tool flags> -- <prompt>`.
 */
export function claudeInvocation(runtime: ClaudeRuntime, opts: ClaudeInvocationOptions): Invocation {
  checkBin('claude', 'MOSAIC_CLAUDE_BIN', opts.claudeBin);
  checkPrompt(opts.prompt);
  validateSpec(runtime);
  const argv = [opts.claudeBin, '-p', '--output-format', 'stream-json', '--verbose'];
  if (runtime.model !== undefined) argv.push('--model', runtime.model);
  if (runtime.maxTurns !== undefined) argv.push('--max-turns', String(runtime.maxTurns));
  if (runtime.permissionMode !== undefined) argv.push('--permission-mode', runtime.permissionMode);
  if (runtime.resume !== undefined) argv.push('--resume', runtime.resume);
  if (opts.budgetUsd !== undefined && opts.budgetUsd !== null) argv.push('--max-budget-usd', String(opts.budgetUsd));
  if (!opts.projectConfig) argv.push(...NO_PROJECT_CONFIG_ARGS);
  argv.push('--append-system-prompt', ROLE_PROMPTS[opts.type], ...typeArgs(opts.type, opts.shell ?? true));
  argv.push('--', opts.prompt);
  return { argv };
}

/** The claude runtime behind the common interface (see runtime.ts). */
export const claudeRuntime: AgentRuntime<ClaudeRuntime> = {
  kind: 'claude',
  normalize(spec) {
    const out: ClaudeRuntime = { kind: 'claude' };
    if (spec.model !== undefined) out.model = spec.model;
    if (spec.maxTurns !== undefined) out.maxTurns = spec.maxTurns;
    if (spec.permissionMode !== undefined) out.permissionMode = spec.permissionMode;
    validateSpec(out);
    return out;
  },
  invocation: (spec, input) => claudeInvocation(spec, {
    claudeBin: input.bins.claude, prompt: input.prompt, type: input.type, shell: input.shell, projectConfig: input.projectConfig,
    budgetUsd: input.budgetUsd,
  }),
  stream: () => new ClaudeRunStream(),
  resume: (spec, sessionId) => ({ ...spec, resume: sessionId }),
  fresh(spec) {
    const { resume: _dropped, ...fresh } = spec;
    return fresh;
  },
  rateLimitOf: claudeRateLimitOfLine,
};
