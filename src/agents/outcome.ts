import { readFileSync } from 'node:fs';
import { runCost, runtimeOf, type PriceTable, type RunSummary } from './runtimes/index.js';
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

/** The result fields a run's stream gave, in the shape every runtime shares (cost: pricing.ts). */
export function streamResult(summary: RunSummary, spec: AgentRecord['runtime'], prices: PriceTable): AgentResult {
  const result: AgentResult = {};
  if (summary.sessionId !== undefined) result.sessionId = summary.sessionId;
  if (summary.turns !== undefined) result.turns = summary.turns;
  const cost = runCost(spec, summary, prices);
  result.costUsd = cost.costUsd;
  result.costEstimated = cost.costEstimated;
  if (cost.costNote !== undefined) result.costNote = cost.costNote;
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

/** Reads a whole log with a runtime's stream reader; null for runtimes whose output is opaque. */
export function summarizeLog(agent: AgentRecord, logPath: string): RunSummary | null {
  const stream = runtimeOf(agent.runtime).stream();
  if (stream === null) return null;
  for (const line of readLog(logPath).split(/\r?\n/)) stream.push(line);
  return stream.summary();
}

/**
 * Why a run that printed a readable stream failed, or null when it did not.
 * Typed when the runtime said why (`not_logged_in`, `rate_limited`), else
 * `<kind>_error` / `<kind>_no_result`, always with the runtime's own words.
 */
function streamFailure(agent: AgentRecord, summary: RunSummary, exit: ExitRecord): AgentError | null {
  const kind = agent.runtime.kind;
  // Refused by the runtime's rate limit, then failed or stopped: typed, so the fleet retries it once after the reset.
  if (summary.errorCode === 'rate_limited' || (summary.rateLimit?.state === 'rejected' && (summary.isError || !summary.sawFinal))) {
    const until = summary.rateLimit?.resetsAt === undefined ? '' : ` (resets at ${new Date(summary.rateLimit.resetsAt).toISOString()})`;
    return { code: 'rate_limited', message: `${kind} hit its rate limit${until}: ${summary.errorMessage ?? summary.resultText ?? 'no result'}` };
  }
  if (summary.isError) {
    return { code: summary.errorCode ?? `${kind}_error`, message: summary.errorMessage ?? summary.resultText ?? `${kind} reported an error` };
  }
  if (!summary.sawFinal) {
    const how = `exit code ${exit.exitCode ?? exit.signal ?? 'unknown'}`;
    if (summary.errorMessage !== undefined) return { code: summary.errorCode ?? `${kind}_no_result`, message: `${summary.errorMessage} (${how})` };
    return { code: `${kind}_no_result`, message: `${kind} ended without a result (${how})` };
  }
  return null;
}

/** A stream runtime that printed nothing of its format in time (the supervisor ended it). */
function silentFailure(agent: AgentRecord, summary: RunSummary | null, exit: ExitRecord): AgentError {
  const said = summary?.errorMessage ? `; it said: ${summary.errorMessage}` : '';
  return {
    code: 'runtime_silent',
    message: `${agent.runtime.kind} printed no event of its format within ${Math.round((exit.silentAfterMs ?? 0) / 1000)} s (MOSAIC_RUNTIME_FIRST_EVENT_S)${said}`,
  };
}

/**
 * Decides how an agent ended from its supervisor's exit record and, for
 * runtimes with a machine-readable stream, its log. An error reported in the
 * stream is a failure whatever the exit code (the unauthenticated claude
 * exits 1 with "Not logged in"; other errors may exit 0), and a stream that
 * stops without its final event crashed mid-run.
 */
export function judgeExit(agent: AgentRecord, exit: ExitRecord, logPath: string, prices: PriceTable): Judgement {
  const exitCode = exit.exitCode;
  let result: AgentResult = {};
  let runtimeFailure: AgentError | null = null;
  if (!exit.spawnError) {
    const summary = summarizeLog(agent, logPath);
    if (summary !== null) {
      result = streamResult(summary, agent.runtime, prices);
      runtimeFailure = streamFailure(agent, summary, exit);
    }
    if (exit.silent && !agent.killRequested) runtimeFailure = silentFailure(agent, summary, exit);
  }

  let outcome: Outcome;
  if (exit.spawnError) outcome = { kind: 'failed', error: exit.spawnError };
  else if (agent.killRequested || (exit.killed && !exit.silent)) outcome = { kind: 'killed' };
  else if (exit.timedOut) outcome = { kind: 'failed', error: { code: 'timeout', message: `timed out after ${agent.timeoutS} s` } };
  else if (runtimeFailure) outcome = { kind: 'failed', error: runtimeFailure };
  else if (exitCode !== 0) {
    const how = exitCode === null ? `killed by ${exit.signal ?? 'a signal'}` : `exited with code ${exitCode}`;
    outcome = { kind: 'failed', error: { code: 'exit_nonzero', message: `agent ${how}` } };
  } else outcome = { kind: 'completed' };
  return { outcome, exitCode, result };
}
