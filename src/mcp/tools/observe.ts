import { isTerminal, LOG_TAIL_MAX_LINES, tailLog, waitAgents, type PublicAgent } from '../../agents/index.js';
import { renderLogLine } from '../../agents/runtimes/log-render.js';
import { name } from '../../http/schemas.js';
import { CONTENT_BUDGET_BYTES, cutText, lastLinesWithin } from '../bounds.js';
import { diffStat } from '../../git/index.js';
import { agentLine, outcomeOf } from './format.js';
import { objectSchema, type ToolDef } from './types.js';

export const WAIT_DEFAULT_S = 60;
export const WAIT_MAX_S = 600;
const LINE_BYTES = 2000;

export const waitAgentsTool: ToolDef = {
  name: 'wait_agents',
  title: 'Wait for agents to end',
  description: 'Block until every listed agent has ended (completed, failed or killed), or until `timeoutS` (default 60, at most 600) '
    + 'passes. Use this instead of polling get_agent or list_agents: it returns as soon as the last one ends, with each agent\'s '
    + 'state, error and result (summary, commits, files changed). `timedOut: true` means some are still working: call it again. '
    + 'Then read agent_diff / agent_logs, and land_agent what is good.',
  inputSchema: objectSchema({
    ids: { type: 'array', minItems: 1, maxItems: 100, uniqueItems: true, items: name, description: 'the agent ids to wait for' },
    timeoutS: { type: 'integer', minimum: 0, maximum: WAIT_MAX_S, description: `seconds to wait at most (default ${WAIT_DEFAULT_S})` },
  }, ['ids']),
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, { services, signal, progress }) {
    const ids = args.ids as string[];
    const timeoutS = (args.timeoutS as number | undefined) ?? WAIT_DEFAULT_S;
    const started = Date.now();
    const { agents, timedOut } = await waitAgents((id) => services.agents.get(id), services.bus, ids, timeoutS * 1000, {
      signal,
      onWait: (now: PublicAgent[]) => {
        const left = now.filter((agent) => !isTerminal(agent.state)).length;
        progress(`${left} of ${now.length} agent(s) still working after ${Math.round((Date.now() - started) / 1000)}s`);
      },
    });
    const head = timedOut
      ? `Timed out after ${timeoutS}s; ${agents.filter((a) => !isTerminal(a.state)).length} agent(s) still working (call wait_agents again):`
      : `All ${agents.length} agent(s) ended:`;
    return { structured: { agents: agents.map(outcomeOf), timedOut }, text: `${head}\n${agents.map(agentLine).join('\n')}` };
  },
};

export const agentLogs: ToolDef = {
  name: 'agent_logs',
  title: 'Read an agent\'s output',
  description: 'The last `tail` lines (default 100, at most 1000) of what an agent printed. Claude agents\' stream-json is rendered '
    + 'for reading: assistant text, one line per tool call, shortened tool results, the final result with turns and cost. '
    + 'Long output is cut to the most recent lines that fit, with a note.',
  inputSchema: objectSchema({
    id: { ...name, description: 'the agent id' },
    tail: { type: 'integer', minimum: 1, maximum: 1000, description: 'how many of the last lines (default 100)' },
  }, ['id']),
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(args, { services, signal }) {
    const id = args.id as string;
    const tail = (args.tail as number | undefined) ?? 100;
    const agent = await services.agents.get(id);
    const render = agent.runtime.kind !== 'command' ? renderLogLine : undefined;
    const read = await tailLog((after, limit) => services.agents.logs(id, after, limit), tail, {
      signal, render: (line) => (render ? render(line) : [line]).map((shown) => cutText(shown, LINE_BYTES)),
    });
    const fitted = lastLinesWithin(read.lines, CONTENT_BUDGET_BYTES);
    const notes = [
      ...(fitted.dropped > 0 ? [`${fitted.dropped} earlier line(s) left out to fit`] : []),
      ...(read.complete ? [] : [`the log is longer than ${LOG_TAIL_MAX_LINES} lines: these are the last lines of its first part`]),
    ];
    const text = [
      `Agent ${id} (${agent.state})${read.ended ? ', output complete' : ', still writing'}:`,
      ...(fitted.lines.length > 0 ? fitted.lines : ['(no output yet)']),
      ...notes.map((note) => `(${note})`),
    ].join('\n');
    return { structured: { id, state: agent.state, lines: fitted.lines, ended: read.ended, ...(notes.length > 0 ? { truncated: true, notes } : {}) }, text };
  },
};

export const agentDiff: ToolDef = {
  name: 'agent_diff',
  title: 'Show an agent\'s changes',
  description: 'The unified diff of an agent\'s branch against its base (for a running agent, including its uncommitted edits). '
    + '`stat: true` gives only the changed files with added/removed line counts: use it first on big changes. '
    + 'A diff over ~45 KB is cut with a note saying so.',
  inputSchema: objectSchema({ id: { ...name, description: 'the agent id' }, stat: { type: 'boolean', description: 'files and line counts only' } }, ['id']),
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(args, { services }) {
    const id = args.id as string;
    const diff = await services.agents.diff(id);
    const stat = diffStat(diff);
    const summary = `${stat.filesChanged} file(s) changed, ${stat.insertions} insertion(s)(+), ${stat.deletions} deletion(s)(-)`;
    if (args.stat === true) {
      const lines = stat.files.map((f) => `${f.path} | ${f.binary ? 'binary' : `+${f.added} -${f.removed}`}`);
      return { structured: { id, ...stat }, text: [`Agent ${id}: ${summary}`, ...lines].join('\n') };
    }
    const bytes = Buffer.byteLength(diff);
    const cut = bytes > CONTENT_BUDGET_BYTES;
    const shown = cut ? cutAtLine(diff, CONTENT_BUDGET_BYTES) : diff;
    const note = cut ? `\n(Diff cut: ${Buffer.byteLength(shown)} of ${bytes} bytes shown; call agent_diff with stat: true for every file.)` : '';
    const text = diff === '' ? `Agent ${id} has no changes.` : `Agent ${id}: ${summary}\n${shown}${note}`;
    return { structured: { id, diff: shown, filesChanged: stat.filesChanged, insertions: stat.insertions, deletions: stat.deletions, ...(cut ? { truncated: true, bytes } : {}) }, text };
  },
};

function cutAtLine(text: string, max: number): string {
  const cut = cutText(text, max, '');
  const end = cut.lastIndexOf('\n');
  return end > 0 ? cut.slice(0, end + 1) : cut;
}

export const conflictsTool: ToolDef = {
  name: 'conflicts',
  title: 'Conflict radar of a repository',
  description: 'Which agents of a repository change the same files, which pairs would conflict if both landed, and which conflict '
    + 'with their base branch (running agents count with their uncommitted edits). Check it before landing agents that worked in parallel.',
  inputSchema: objectSchema({ repo: { ...name, description: 'the repository name' } }, ['repo']),
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(args, { services }) {
    const report = await services.conflicts.report(args.repo as string);
    const lines = [
      ...report.pairs.map((p) => `${p.agents.join(' & ')}: ${p.conflicts ? 'CONFLICT' : 'overlap'} in ${p.paths.join(', ')}`),
      ...report.base.map((b) => `${b.agent}: conflicts with its base in ${b.paths.join(', ')}`),
    ];
    return { structured: { ...report }, text: lines.length === 0 ? `No overlaps in ${args.repo as string}.` : lines.join('\n') };
  },
};
