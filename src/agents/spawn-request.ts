import { join } from 'node:path';
import { invalid } from '../core/errors.js';
import { assertName, newAgentId } from '../core/ids.js';
import { managedRoot } from '../git/index.js';
import type { RepoRecord } from '../store/types.js';
import { runtimeOf, validateUserEnv, type RuntimeBins } from './runtimes/index.js';
import type { AgentRecord, SpawnRequest } from './types.js';

/** Only the shape of an invocation is checked at spawn time; the configured binaries are used at launch. */
const PLACEHOLDER_BINS: RuntimeBins = { claude: 'claude', codex: 'codex', gemini: 'gemini', opencode: 'opencode' };

export const DEFAULT_PRIORITY = 5;
/** The largest budget an agent (or a fleet scope) may be given, in USD. */
export const MAX_BUDGET_USD = 1_000_000;
/** Linux refuses an argv or env string over 128 KiB, and the prompt is passed as both. */
export const MAX_PROMPT_BYTES = 128 * 1024 - 1024;

/** The branch and worktree directory name of an agent: `agent-<agentId>-<taskId>`. */
export function agentBranchName(agentId: string, taskId: string): string {
  return `agent-${agentId}-${taskId}`;
}

/**
 * Checks what the JSON schema cannot (names, env keys, the repository) and
 * builds the queued record. Nothing is written here.
 */
export function buildAgentRecord(request: SpawnRequest, repo: RepoRecord, origin: string, now = Date.now()): AgentRecord {
  const taskId = assertName('taskId', request.taskId);
  if (request.prompt.length === 0) throw invalid('invalid_prompt', 'prompt must not be empty', { field: 'prompt' });
  if (Buffer.byteLength(request.prompt) > MAX_PROMPT_BYTES) {
    throw invalid('prompt_too_large', `prompt must be at most ${MAX_PROMPT_BYTES} bytes`, { field: 'prompt' });
  }
  if (request.prompt.includes('\0')) throw invalid('invalid_prompt', 'prompt must not contain NUL bytes', { field: 'prompt' });
  const requested = request.runtime ?? { kind: 'claude' };
  const runtime = runtimeOf(requested).normalize(requested);
  const id = newAgentId();
  const type = request.type ?? 'worker';
  // Everything the launch would refuse (model names, permission modes, maxTurns, argv, prompt) is refused
  // now, with the launch's own checks: a bad spawn is a 400, never a 202 followed by a failed agent.
  // (shell and projectConfig are the agent's grant and repository's: decided at launch, and for peers at the grant check.)
  runtimeOf(runtime).invocation(runtime, { bins: PLACEHOLDER_BINS, prompt: request.prompt, type, shell: true, projectConfig: true });
  // Validate env keys now so a bad request creates nothing; the real env is built at launch.
  const env = validateUserEnv(request.env);
  if (request.budgetUsd !== undefined && !(Number.isFinite(request.budgetUsd) && request.budgetUsd > 0 && request.budgetUsd <= MAX_BUDGET_USD)) {
    throw invalid('invalid_budget', `budgetUsd must be a number above 0 and at most ${MAX_BUDGET_USD}`, { field: 'budgetUsd' });
  }

  const branch = agentBranchName(id, taskId);
  return {
    id,
    state: 'queued',
    taskId,
    type,
    repo: repo.name,
    branch,
    baseBranch: request.baseBranch ?? repo.baseBranch,
    worktreePath: join(managedRoot(repo.path), branch),
    pooled: false,
    runtime,
    prompt: request.prompt,
    env,
    priority: request.priority ?? DEFAULT_PRIORITY,
    timeoutS: request.timeoutS ?? null,
    budgetUsd: request.budgetUsd ?? null,
    waitingFor: null,
    origin,
    idempotencyKey: request.idempotencyKey ?? null,
    pid: null,
    pgid: null,
    port: null,
    exitCode: null,
    error: null,
    result: null,
    progress: null,
    killRequested: false,
    landed: null,
    retryOf: null,
    followUpOf: null,
    sandbox: null,
    limits: null,
    timings: null,
    createdAt: now,
    startedAt: null,
    endedAt: null,
    updatedAt: now,
  };
}
