import { Role, TaskState, type Artifact, type Message, type Part, type Task, type TaskStatus } from '@a2a-js/sdk';
import { isTerminal, type AgentRecord, type AgentState } from '../agents/index.js';
import { diffStat, type DiffStat } from '../git/index.js';

/** Mosaic's lifecycle in A2A's words (DESIGN §5): killed is canceled; spawning is already work. */
const STATES: Record<AgentState, TaskState> = {
  queued: TaskState.TASK_STATE_SUBMITTED,
  spawning: TaskState.TASK_STATE_WORKING,
  running: TaskState.TASK_STATE_WORKING,
  completed: TaskState.TASK_STATE_COMPLETED,
  failed: TaskState.TASK_STATE_FAILED,
  killed: TaskState.TASK_STATE_CANCELED,
};

export const a2aState = (state: AgentState): TaskState => STATES[state];

/** The Mosaic states an A2A state filter stands for. */
export function agentStatesOf(state: TaskState): AgentState[] {
  return (Object.keys(STATES) as AgentState[]).filter((s) => STATES[s] === state);
}

export const textPart = (text: string): Part => ({ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' });
export const dataPart = (value: unknown): Part => ({ content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: 'application/json' });

function statusMessage(agent: AgentRecord): Message | undefined {
  const text = agent.error ? `${agent.error.code}: ${agent.error.message}` : agent.state === 'queued' ? 'queued: waiting for a free slot' : undefined;
  if (text === undefined) return undefined;
  return { messageId: `${agent.id}-${agent.state}`, contextId: agent.taskId, taskId: agent.id, role: Role.ROLE_AGENT, parts: [textPart(text)], metadata: undefined, extensions: [], referenceTaskIds: [] };
}

export function taskStatus(agent: AgentRecord): TaskStatus {
  return { state: a2aState(agent.state), message: statusMessage(agent), timestamp: new Date(agent.updatedAt).toISOString() };
}

/**
 * An agent as an A2A task: its id is the agent id, its context Mosaic's task
 * id; the Mosaic record's main facts ride in `metadata.mosaic`.
 */
export function taskOf(agent: AgentRecord, artifacts: Artifact[] = []): Task {
  return {
    id: agent.id,
    contextId: agent.taskId,
    status: taskStatus(agent),
    artifacts,
    history: [],
    metadata: {
      mosaic: {
        state: agent.state, repo: agent.repo, taskId: agent.taskId, branch: agent.branch, baseBranch: agent.baseBranch,
        runtime: agent.runtime.kind, origin: agent.origin, sandbox: agent.sandbox, createdAt: agent.createdAt, endedAt: agent.endedAt,
      },
    },
  };
}

/** What the artifacts of an ended agent are made of; read through the agent service. */
export interface ArtifactSources {
  diff(id: string): Promise<string>;
  /** The last lines of the agent's output (for command agents, whose runtime gives no summary). */
  tail(id: string, lines: number): Promise<string[]>;
}

const TAIL_LINES = 20;
const SUMMARY_CHARS = 16_000;

function artifact(agent: AgentRecord, name: string, description: string, parts: Part[]): Artifact {
  return { artifactId: `${agent.id}-${name}`, name, description, parts, metadata: undefined, extensions: [] };
}

/**
 * The artifacts of an ended agent: `summary` (the runtime's result, or for
 * other runtimes the last lines of output and the commit and file counts),
 * `diff-stat` (files with line counts, as text and data) and `branch` (where
 * the work is). None while it works.
 */
export async function artifactsOf(agent: AgentRecord, sources: ArtifactSources): Promise<Artifact[]> {
  if (!isTerminal(agent.state)) return [];
  const r = agent.result;
  const counts = `${r?.commitsAhead ?? 0} commit(s), ${r?.filesChanged ?? 0} file(s) changed on ${agent.branch}`;
  let summary = r?.summary;
  if (summary === undefined) {
    const lines = await sources.tail(agent.id, TAIL_LINES).catch(() => []);
    summary = [...(lines.length > 0 ? ['Last lines of output:', ...lines, ''] : []), counts].join('\n');
  } else {
    summary = `${summary}\n\n${counts}`;
  }
  if (agent.error) summary = `${agent.error.code}: ${agent.error.message}\n\n${summary}`;
  if (summary.length > SUMMARY_CHARS) summary = `${summary.slice(0, SUMMARY_CHARS)} …[cut]`;

  let stat: DiffStat | undefined;
  let statError: string | undefined;
  try {
    stat = diffStat(await sources.diff(agent.id));
  } catch (err) {
    statError = err instanceof Error ? err.message : String(err);
  }
  const statText = stat
    ? [`${stat.filesChanged} file(s) changed, ${stat.insertions} insertion(s)(+), ${stat.deletions} deletion(s)(-)`,
      ...stat.files.map((f) => `${f.path} | ${f.binary ? 'binary' : `+${f.added} -${f.removed}`}`)].join('\n')
    : `diff unavailable: ${statError ?? 'unknown'}`;
  return [
    artifact(agent, 'summary', 'What the agent did', [textPart(summary)]),
    artifact(agent, 'diff-stat', 'Files changed on the agent\'s branch against its base', [textPart(statText), ...(stat ? [dataPart(stat)] : [])]),
    artifact(agent, 'branch', 'The git branch holding the work, in the Mosaic repository', [
      textPart(agent.branch), dataPart({ repo: agent.repo, branch: agent.branch, baseBranch: agent.baseBranch, landed: agent.landed }),
    ]),
  ];
}
