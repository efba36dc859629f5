import { readFileSync } from 'node:fs';
import { summarizeClaudeLog, type ClaudeSummary } from './runtimes/index.js';
import type { ExitRecord } from './supervisor/index.js';
import type { AgentError, AgentRecord, AgentResult } from './types.js';

export type Outcome =
  | { kind: 'completed' }
  | { kind: 'killed' }
  | { kind: 'failed'; error: AgentError };

export interface Judgement {
  outcome: Outcome;
  exitCode: number | null;
  result: AgentResult;
}

function claudeResult(summary: ClaudeSummary): AgentResult {
  const result: AgentResult = {};
  if (summary.sessionId !== undefined) result.sessionId = summary.sessionId;
  if (summary.turns !== undefined) result.turns = summary.turns;
  if (summary.costUsd !== undefined) result.costUsd = summary.costUsd;
  if (summary.usage !== undefined) result.usage = summary.usage;
  if (summary.resultText !== undefined) result.summary = summary.resultText;
  return result;
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Decides how an agent ended from its supervisor's exit record and, for
 * claude, its stream-json log. A claude `result` with `is_error: true` is a
 * failure whatever the exit code (the unauthenticated CLI exits 1 with
 * "Not logged in"; other errors may exit 0), and a stream that stops without
 * any `result` line crashed mid-run.
 */
export function judgeExit(agent: AgentRecord, exit: ExitRecord, logPath: string): Judgement {
  const exitCode = exit.exitCode;
  let result: AgentResult = {};
  let claudeFailure: AgentError | null = null;
  if (agent.runtime.kind === 'claude' && !exit.spawnError) {
    const summary = summarizeClaudeLog(readLog(logPath));
    result = claudeResult(summary);
    if (summary.isError) {
      claudeFailure = { code: 'claude_error', message: summary.errorMessage ?? summary.resultText ?? 'claude reported an error' };
    } else if (!summary.sawResult) {
      claudeFailure = { code: 'claude_no_result', message: `claude ended without a result (exit code ${exitCode ?? exit.signal ?? 'unknown'})` };
    }
  }

  let outcome: Outcome;
  if (exit.spawnError) outcome = { kind: 'failed', error: exit.spawnError };
  else if (agent.killRequested || exit.killed) outcome = { kind: 'killed' };
  else if (exit.timedOut) outcome = { kind: 'failed', error: { code: 'timeout', message: `timed out after ${agent.timeoutS} s` } };
  else if (claudeFailure) outcome = { kind: 'failed', error: claudeFailure };
  else if (exitCode !== 0) {
    const how = exitCode === null ? `killed by ${exit.signal ?? 'a signal'}` : `exited with code ${exitCode}`;
    outcome = { kind: 'failed', error: { code: 'exit_nonzero', message: `agent ${how}` } };
  } else outcome = { kind: 'completed' };
  return { outcome, exitCode, result };
}
