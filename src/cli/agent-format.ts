import type { PublicAgent, RuntimeSpec } from '../agents/index.js';
import { dash, formatAgo, formatDuration, formatFields, formatTable, formatTimestamp } from './output.js';

/** How agents look in human output. */

/** Shell-like quoting for display only (never executed). */
export function quoteArg(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatRuntime(runtime: RuntimeSpec | undefined): string {
  if (!runtime) return '-';
  if (runtime.kind === 'command') return `command: ${runtime.argv.map(quoteArg).join(' ')}`;
  const extras = [runtime.model, runtime.maxTurns ? `${runtime.maxTurns} turns` : undefined, runtime.permissionMode].filter(Boolean);
  return extras.length > 0 ? `claude (${extras.join(', ')})` : 'claude';
}

/** How long it ran (or has been running); '-' before it starts. */
export function runTime(agent: PublicAgent, now = Date.now()): string {
  if (!agent.startedAt) return '-';
  return formatDuration((agent.endedAt ?? now) - agent.startedAt);
}

export function formatAgentTable(agents: readonly PublicAgent[], now = Date.now()): string {
  const remote = agents.some((agent) => agent.instance);
  const headers = ['ID', 'STATE', 'TASK', 'TYPE', 'REPO', 'RUNTIME', 'CREATED', 'RAN', ...(remote ? ['INSTANCE'] : [])];
  const rows = agents.map((agent) => [
    agent.id,
    agent.state + (agent.error ? ` (${agent.error.code})` : ''),
    agent.taskId,
    agent.type,
    agent.repo,
    agent.runtime?.kind ?? '-',
    formatAgo(agent.createdAt, now),
    runTime(agent, now),
    ...(remote ? [dash(agent.peer ?? agent.instance)] : []),
  ]);
  return formatTable(headers, rows);
}

export function formatAgent(agent: PublicAgent, now = Date.now()): string {
  const fields: [string, string][] = [
    ['id', agent.id],
    ['state', agent.state],
    ['task', agent.taskId],
    ['type', agent.type],
    ['repo', agent.repo],
    ['branch', `${dash(agent.branch)} (from ${dash(agent.baseBranch)})`],
    ['worktree', dash(agent.worktreePath)],
    ['runtime', formatRuntime(agent.runtime)],
    ['priority', dash(agent.priority)],
    ['origin', dash(agent.origin)],
  ];
  if (agent.instance) fields.push(['instance', `${agent.instance}${agent.peer ? ` (${agent.peer})` : ''}`]);
  if (agent.pid !== null && agent.pid !== undefined) fields.push(['pid', String(agent.pid)]);
  if (agent.port !== null && agent.port !== undefined) fields.push(['port', String(agent.port)]);
  if (agent.timeoutS) fields.push(['timeout', formatDuration(agent.timeoutS * 1000)]);
  fields.push(
    ['created', formatTimestamp(agent.createdAt)],
    ['started', formatTimestamp(agent.startedAt)],
    ['ended', formatTimestamp(agent.endedAt)],
    ['ran', runTime(agent, now)],
  );
  if (agent.exitCode !== null && agent.exitCode !== undefined) fields.push(['exit code', String(agent.exitCode)]);
  if (agent.error) fields.push(['error', `${agent.error.code}: ${agent.error.message}`]);
  const result = agent.result;
  if (result) {
    if (result.commitsAhead !== undefined) fields.push(['commits ahead', String(result.commitsAhead)]);
    if (result.filesChanged !== undefined) fields.push(['files changed', String(result.filesChanged)]);
    if (result.snapshotCommit) fields.push(['snapshot', result.snapshotCommit]);
    if (result.snapshotError) fields.push(['snapshot failed', result.snapshotError]);
    if (result.sessionId) fields.push(['session', result.sessionId]);
    if (result.turns !== undefined) fields.push(['turns', String(result.turns)]);
    if (result.costUsd !== undefined) fields.push(['cost', `$${result.costUsd.toFixed(4)}`]);
  }
  let text = formatFields(fields);
  if (result?.summary) text += `\n\nsummary:\n${result.summary}`;
  return text;
}

/** One line per state change, for `events` and `kill --wait`. */
export function formatTransition(agent: PublicAgent, at = agent.updatedAt): string {
  const parts = [formatTimestamp(at ?? Date.now()), agent.id, agent.state.padEnd(9), `task=${agent.taskId}`, `repo=${agent.repo}`];
  if (agent.instance) parts.push(`instance=${agent.peer ?? agent.instance}`);
  if (agent.error) parts.push(`error=${agent.error.code}: ${agent.error.message}`);
  return parts.join('  ');
}
