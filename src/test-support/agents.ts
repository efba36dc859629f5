import type { PublicAgent } from '../agents/index.js';
import type { TestInstance } from './instance.js';

/** Test helpers for driving agents through the real HTTP API. */

export const TERMINAL = ['completed', 'failed', 'killed'];

export async function spawnCommand(t: TestInstance, script: string, extra: Record<string, unknown> = {}): Promise<PublicAgent> {
  const res = await t.api<PublicAgent>('POST', '/agents', {
    repo: 'app',
    taskId: 'task',
    prompt: 'do the thing',
    runtime: { kind: 'command', argv: ['sh', '-c', script] },
    ...extra,
  });
  if (res.status !== 202) throw new Error(`spawn answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function getAgent(t: TestInstance, id: string): Promise<PublicAgent> {
  const res = await t.api<PublicAgent>('GET', `/agents/${id}`);
  if (res.status !== 200) throw new Error(`GET agent answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Polls until the agent is in one of `states`; fails with its last record. */
export async function waitForState(t: TestInstance, id: string, states: string[] = TERMINAL, timeoutMs = 20_000): Promise<PublicAgent> {
  const deadline = Date.now() + timeoutMs;
  let agent = await getAgent(t, id);
  while (!states.includes(agent.state)) {
    if (Date.now() > deadline) throw new Error(`agent ${id} is ${agent.state}, not ${states.join('|')}: ${JSON.stringify(agent)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    agent = await getAgent(t, id);
  }
  return agent;
}

/**
 * Waits until every agent of `ids` has ended, with one list request at a
 * time (many pollers at once would meet the per-address connection cap).
 */
export async function waitForAllEnded(t: Pick<TestInstance, 'api'>, ids: readonly string[], timeoutMs: number): Promise<PublicAgent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const byId = new Map((await t.api<{ agents: PublicAgent[] }>('GET', '/agents')).body.agents.map((a) => [a.id, a]));
    const agents = ids.map((id) => byId.get(id));
    const open = ids.filter((id, i) => !TERMINAL.includes(agents[i]?.state ?? ''));
    if (open.length === 0) return agents as PublicAgent[];
    if (Date.now() > deadline) throw new Error(`not ended after ${timeoutMs} ms: ${open.map((id) => `${id} ${byId.get(id)?.state ?? 'unknown'}`).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

export { git } from './git-fixtures.js';
export { groupMembers, isGroupAlive as groupAlive } from '../agents/supervisor/index.js';
