import { diffStat, type DiffStat } from '../../src/git/diff-stat';
import { api, messageOf } from './api';
import { fleet } from './fleet';
import type { Agent } from './types';

/**
 * Diff stats of finished agents, read from the same diff the Diff tab shows
 * (GET /agents/:id/diff), counted as `git diff --stat` counts. A finished
 * agent's diff does not change, so each is fetched once per update of the
 * agent, a few at a time.
 */
type Entry = { updatedAt: number; stat?: DiffStat; error?: string };

const stats = new Map<string, Entry>();
const queue: Agent[] = [];
let running = 0;
const AT_ONCE = 3;

export function diffStatOf(agent: Agent): Entry | undefined {
  const entry = stats.get(agent.id);
  if (entry && entry.updatedAt === (agent.updatedAt ?? 0)) return entry;
  if (!queue.some((a) => a.id === agent.id)) {
    stats.set(agent.id, { updatedAt: agent.updatedAt ?? 0 });
    queue.push(agent);
    pump();
  }
  return entry;
}

function pump(): void {
  while (running < AT_ONCE && queue.length > 0) {
    const agent = queue.shift()!;
    running += 1;
    api.text(`/agents/${encodeURIComponent(agent.id)}/diff`)
      .then((diff) => stats.set(agent.id, { updatedAt: agent.updatedAt ?? 0, stat: diffStat(diff) }))
      .catch((err: unknown) => stats.set(agent.id, { updatedAt: agent.updatedAt ?? 0, error: messageOf(err) }))
      .finally(() => {
        running -= 1;
        fleet.touch();
        pump();
      });
  }
}
