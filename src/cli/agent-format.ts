import { TIMING_PHASES, type AgentTimings } from '../core/agent-model.js';
import type { AgentCheckout, PublicAgent, RuntimeSpec } from '../agents/index.js';
import { colorState, dash, formatAgo, formatDuration, formatFields, formatTable, formatTimestamp, safeText } from './output.js';

/** How agents look in human output. */

/** Shell-like quoting for display only (never executed). */
export function quoteArg(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatRuntime(runtime: RuntimeSpec | undefined): string {
  if (!runtime) return '-';
  if (runtime.kind === 'command') return `command: ${runtime.argv.map(quoteArg).join(' ')}`;
  const extras = runtime.kind === 'claude'
    ? [runtime.model, runtime.maxTurns ? `${runtime.maxTurns} turns` : undefined, runtime.permissionMode].filter(Boolean)
    : [runtime.model].filter(Boolean);
  return extras.length > 0 ? `${runtime.kind} (${extras.join(', ')})` : runtime.kind;
}

/** How long it ran (or has been running); '-' before it starts. */
export function runTime(agent: PublicAgent, now = Date.now()): string {
  if (!agent.startedAt) return '-';
  return formatDuration((agent.endedAt ?? now) - agent.startedAt);
}

export function formatAgentTable(agents: readonly PublicAgent[], now = Date.now(), color = false): string {
  const remote = agents.some((agent) => agent.instance);
  // Who spawned the agents here, when not all were spawned locally: a peer's instance id, or `a2a:<tokenId>`.
  const foreign = agents.some((agent) => !agent.instance && agent.origin !== 'local');
  const headers = ['ID', 'STATE', 'TASK', 'TYPE', 'REPO', 'RUNTIME', 'CREATED', 'RAN', ...(remote ? ['INSTANCE'] : []), ...(foreign ? ['ORIGIN'] : [])];
  const rows = agents.map((agent) => [
    agent.id,
    agent.state + (agent.error ? ` (${agent.error.code})` : '') + (agent.landed ? ' (landed)' : '') + staleMark(agent, now),
    agent.taskId,
    agent.type,
    agent.repo,
    agent.runtime?.kind ?? '-',
    formatAgo(agent.createdAt, now),
    runTime(agent, now),
    ...(remote ? [agent.instance ? (agent.peer ?? agent.instance) : 'local'] : []),
    ...(foreign ? [agent.instance ? '-' : agent.origin] : []),
  ]);
  // The STATE column in the state's colour (row 0 is the header).
  return formatTable(headers, rows, color ? (cell, row, column) => (row > 0 && column === 1 ? colorState(agents[row - 1]!.state, cell, true) : cell) : undefined);
}

/** How long ago the peer of a remote agent was last heard from, compactly ('12m'), or null when never. */
function silentFor(agent: PublicAgent, now: number): string | null {
  const last = agent.peerContact?.lastContactAt;
  return typeof last === 'number' ? formatDuration(Math.max(0, now - last)).split(' ')[0]! : null;
}

/** ` (stale 12m)` after the state of a remote agent whose peer is unreachable or silent; '' otherwise. */
export function staleMark(agent: PublicAgent, now = Date.now()): string {
  if (agent.orphaned) return ' (orphaned)';
  if (!agent.stale) return '';
  const age = silentFor(agent, now);
  return age ? ` (stale ${age})` : ' (stale)';
}

/**
 * One note per peer whose agents are marked stale, for stderr: which peer,
 * since when it cannot be reached (and why) or how long it has been silent.
 */
export function staleNotes(agents: readonly PublicAgent[], now = Date.now()): string[] {
  const byPeer = new Map<string, PublicAgent>();
  for (const agent of agents) {
    const peer = agent.peer ?? agent.instance;
    if (agent.stale && peer && !byPeer.has(peer)) byPeer.set(peer, agent);
  }
  return [...byPeer].map(([peer, agent]) => {
    if (agent.orphaned) {
      return `note: peer ${peer} is disconnected: its agents here are orphaned (their state no longer changes); `
        + '`mosaic agents discard <id> --force` forgets one here';
    }
    const contact = agent.peerContact;
    const heard = typeof contact?.lastContactAt === 'number' ? `last heard from ${formatAgo(contact.lastContactAt, now)}` : 'not heard from since this server started';
    const state = typeof contact?.unreachableSince === 'number'
      ? `unreachable since ${formatTimestamp(contact.unreachableSince, { short: true, now })}${contact.error ? ` (${oneLine(contact.error, 120)})` : ''}, ${heard}`
      : heard;
    return `note: peer ${peer} ${state}; its agents may be out of date`;
  });
}

/** The agent as GET /agents/:id returns it: local agents say what exists on disk now. */
type ShownAgent = PublicAgent & { checkout?: AgentCheckout };

function branchText(agent: ShownAgent): string {
  const from = `(from ${dash(agent.baseBranch)})`;
  switch (agent.checkout?.branch) {
    case 'none': return 'none — never created (the agent ended before it started)';
    case 'deleted': return `${agent.branch} ${from}, deleted`;
    default: return `${dash(agent.branch)} ${from}`;
  }
}

function worktreeText(agent: ShownAgent): string {
  switch (agent.checkout?.worktree) {
    case 'none': return 'none — never created';
    case 'removed': return `${agent.worktreePath} (removed; the work is on the branch)`;
    default: return dash(agent.worktreePath);
  }
}

/** How much of a prompt `show` prints: enough to recognise the task; `--json` has all of it. */
export const SHOWN_PROMPT_CHARS = 600;

/** The agents before and after one in its conversation (`reply` follow-ups), oldest first. */
export interface Conversation {
  /** The agent it follows up on, if any. */
  previous?: PublicAgent;
  /** Its follow-ups. */
  next: PublicAgent[];
}

function conversationLine(agent: PublicAgent): string {
  return `${agent.id} ${agent.state}  ${oneLine(agent.prompt ?? '', 70)}`;
}

/** `queued 12ms, worktree 310ms, …` in phase order (issue 24): where a spawn's time went; null when there are none. */
export function timingsText(timings: AgentTimings | null | undefined): string | null {
  if (!timings) return null;
  const parts = TIMING_PHASES.filter((phase) => typeof timings[phase] === 'number').map((phase) => `${phase} ${formatMs(timings[phase] as number)}`);
  return parts.length > 0 ? parts.join(', ') : null;
}

const formatMs = (ms: number): string => (ms < 10_000 ? `${ms}ms` : formatDuration(ms));

export function formatAgent(agent: ShownAgent, now = Date.now(), conversation: Conversation = { next: [] }): string {
  const fields: [string, string][] = [
    ['id', agent.id],
    ['state', agent.state + staleMark(agent, now)],
    ['task', agent.taskId],
    ['type', agent.type],
    ['repo', agent.repo],
    ['branch', branchText(agent)],
    ['worktree', worktreeText(agent)],
    ['runtime', formatRuntime(agent.runtime)],
    ['priority', dash(agent.priority)],
    ['origin', dash(agent.origin)],
  ];
  if (agent.landed) fields.splice(2, 0, ['landed', `into ${agent.landed.into} (${agent.landed.strategy}) at ${agent.landed.commit}, ${formatTimestamp(agent.landed.at)}`]);
  if (agent.retryOf) fields.push(['retry of', `${agent.retryOf.agentId}${agent.retryOf.continue ? ', on its branch' : ''}${agent.retryOf.resumed ? `, session ${agent.retryOf.resumed}` : ''}`]);
  if (agent.followUpOf) {
    const previous = conversation.previous ? conversationLine(conversation.previous) : agent.followUpOf.agentId;
    fields.push(['follow-up of', `${previous}${agent.followUpOf.resumed ? ` (session ${agent.followUpOf.resumed} resumed)` : ''}`]);
  }
  conversation.next.forEach((next, i) => fields.push([i === 0 ? 'follow-ups' : '', conversationLine(next)]));
  if (agent.instance) fields.push(['instance', `${agent.instance}${agent.peer ? ` (${agent.peer})` : ''}`]);
  if (agent.pid !== null && agent.pid !== undefined) fields.push(['pid', String(agent.pid)]);
  if (agent.port !== null && agent.port !== undefined) fields.push(['port', String(agent.port)]);
  if (agent.timeoutS) fields.push(['timeout', formatDuration(agent.timeoutS * 1000)]);
  // Known once it launched: the sandbox it runs in, or that it runs unsandboxed.
  if (agent.state !== 'queued' && agent.sandbox !== undefined) fields.push(['sandbox', agent.sandbox ?? 'none (unsandboxed)']);
  if (agent.limits) fields.push(['grant limits', `shell ${agent.limits.shell ? 'yes' : 'no'}, network ${agent.limits.network}`]);
  fields.push(
    ['created', formatTimestamp(agent.createdAt)],
    ['started', formatTimestamp(agent.startedAt)],
    ['ended', formatTimestamp(agent.endedAt)],
    ['ran', runTime(agent, now)],
  );
  const timings = timingsText(agent.timings);
  if (timings) fields.push(['timings', timings]);
  if (agent.exitCode !== null && agent.exitCode !== undefined) fields.push(['exit code', String(agent.exitCode)]);
  if (agent.error) fields.push(['error', `${agent.error.code}: ${agent.error.message}`]);
  const result = agent.result;
  if (result) {
    if (result.commitsAhead !== undefined) fields.push(['commits ahead', String(result.commitsAhead)]);
    if (result.filesChanged !== undefined) fields.push(['files changed', String(result.filesChanged)]);
    if (result.snapshotCommit) fields.push(['snapshot', result.snapshotCommit]);
    if (result.snapshotError) fields.push(['snapshot failed', result.snapshotError]);
    if (result.workKept) {
      fields.push(['work kept in', result.workKept.worktree]);
      if (result.workKept.gitDir) fields.push(['private git dir', result.workKept.gitDir]);
      fields.push(['recover with', result.workKept.recover]);
    }
    if (result.sessionId) fields.push(['session', result.sessionId]);
    if (result.turns !== undefined) fields.push(['turns', String(result.turns)]);
    if (typeof result.costUsd === 'number') fields.push(['cost', `$${result.costUsd.toFixed(4)}${result.costEstimated ? ' (estimated)' : ''}`]);
    else if (result.costUsd === null) fields.push(['cost', `unknown${result.costNote ? ` (${result.costNote})` : ''}`]);
    if (result.usage) {
      const u = result.usage;
      fields.push(['tokens', `${u.inputTokens} in (${u.cachedInputTokens} cached), ${u.outputTokens} out (${u.reasoningTokens} reasoning)`]);
    }
  }
  let text = formatFields(fields);
  if (agent.prompt) {
    const cut = agent.prompt.length > SHOWN_PROMPT_CHARS;
    const shown = cut ? `${agent.prompt.slice(0, SHOWN_PROMPT_CHARS)}… (${agent.prompt.length - SHOWN_PROMPT_CHARS} more characters: --json shows all)` : agent.prompt;
    text += `\n\nprompt:\n${safeText(shown, { multiline: true })}`;
  }
  if (result?.summary) text += `\n\nsummary:\n${safeText(result.summary, { multiline: true })}`;
  return text;
}

/** One line per state change, for `events` and `kill --wait`. */
export function formatTransition(agent: PublicAgent, at = agent.updatedAt): string {
  const parts = [formatTimestamp(at ?? Date.now()), agent.id, agent.state.padEnd(9), `task=${agent.taskId}`, `repo=${agent.repo}`];
  if (agent.instance) parts.push(`instance=${agent.peer ?? agent.instance}`);
  if (agent.error) parts.push(`error=${agent.error.code}: ${agent.error.message}`);
  return safeText(parts.join('  '));
}

/** One line per progress event: the turn, the tools it used and the start of what it said. */
export function formatProgress(agent: PublicAgent, at = agent.updatedAt): string {
  const progress = agent.progress;
  const parts = [formatTimestamp(at ?? Date.now()), agent.id, 'progress ', `turn ${progress?.turns ?? '?'}`];
  if (progress?.tools && progress.tools.length > 0) parts.push(`tools=${progress.tools.join(',')}`);
  if (progress?.lastText) parts.push(oneLine(progress.lastText, 100));
  return safeText(parts.join('  '));
}

/** An event from `/events` as one line. */
export function formatEvent(type: string, agent: PublicAgent): string {
  return type === 'agent.progress' ? formatProgress(agent) : formatTransition(agent);
}

/** Text on one line, cut to `max` characters with an ellipsis. */
export function oneLine(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex -- peers' and agents' text must not move the cursor or recolour the terminal
  const flat = text.replace(/\s+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
