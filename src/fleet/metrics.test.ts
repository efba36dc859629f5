import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo, type TestInstance } from '../test-support/instance.js';

const FAKE_CLAUDE = fileURLToPath(new URL('../test-support/fake-claude.mjs', import.meta.url));

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\["\\\\n])*"';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?\\})? (-?(?:\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?|\\+Inf|-Inf|NaN))$`);
const COMMENT = new RegExp(`^# (?:HELP ${NAME} .*|TYPE ${NAME} (?:counter|gauge|histogram|summary|untyped))$`);

interface Sample { name: string; labels: Record<string, string>; value: number }

/** The Prometheus text format, strictly: every line a HELP/TYPE comment or a sample; anything else throws. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (!COMMENT.test(line)) throw new Error(`bad comment line: ${line}`);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}): number =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);

/** Issue 18, test 5: /metrics parses as Prometheus text and its counters move with the work done. */
describe('metrics', () => {
  let env: InstanceWithRepo;
  let t: TestInstance;
  beforeAll(async () => {
    env = await startInstanceWithRepo({ config: { claudeBin: FAKE_CLAUDE } });
    t = env.t;
  });
  afterAll(() => env.stop());

  const scrape = async (): Promise<Sample[]> => {
    const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return parseMetrics(await res.text());
  };

  it('needs the admin token (MOSAIC_METRICS_PUBLIC is off)', async () => {
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });

  it('counts agents, cost, tokens, spawn-to-running and budgets as the work is done', async () => {
    const before = await scrape();
    for (const name of ['mosaic_agents_waiting', 'mosaic_spawn_to_running_seconds_count']) expect(before.some((s) => s.name === name), name).toBe(true);
    expect((await t.api('PUT', '/budgets/instance', { usd: 10, per: 'month' })).status).toBe(200);

    const res = await t.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId: 'paid', prompt: '[fake:success] work' });
    expect(res.status).toBe(202);
    expect((await waitForState(t, res.body.id)).state).toBe('completed');
    expect((await waitForState(t, (await spawnCommand(t, 'true', { taskId: 'cmd' })).id)).state).toBe('completed');
    await t.fleet.governor.settled();

    const after = await scrape();
    expect(value(after, 'mosaic_agents', { state: 'completed', runtime: 'claude' }) - value(before, 'mosaic_agents', { state: 'completed', runtime: 'claude' })).toBe(1);
    expect(value(after, 'mosaic_agents', { state: 'completed', runtime: 'command' }) - value(before, 'mosaic_agents', { state: 'completed', runtime: 'command' })).toBe(1);
    expect(value(after, 'mosaic_cost_usd_total', { repo: 'app', runtime: 'claude', peer: 'local' }) - value(before, 'mosaic_cost_usd_total', { runtime: 'claude' })).toBeCloseTo(0.0123, 6);
    // The fake reports 120 input and 48 output tokens per run.
    expect(value(after, 'mosaic_tokens_total', { kind: 'input', runtime: 'claude' }) - value(before, 'mosaic_tokens_total', { kind: 'input', runtime: 'claude' })).toBe(120);
    expect(value(after, 'mosaic_tokens_total', { kind: 'output', runtime: 'claude' }) - value(before, 'mosaic_tokens_total', { kind: 'output', runtime: 'claude' })).toBe(48);
    expect(value(after, 'mosaic_spawn_to_running_seconds_count') - value(before, 'mosaic_spawn_to_running_seconds_count')).toBe(2);
    expect(value(after, 'mosaic_budget_left_usd', { scope: 'instance' })).toBeCloseTo(10 - 0.0123, 6);
    expect(value(after, 'mosaic_agents_waiting', { reason: 'budget' })).toBe(0);
    expect(after.find((s) => s.name === 'mosaic_agents_waiting' && s.labels.reason === 'rate_limit')).toBeDefined();
  }, 60_000);

  it('has a histogram per phase, observed once per agent as its timings are recorded (issue 24)', async () => {
    const count = (samples: Sample[], phase: string): number => value(samples, 'mosaic_agent_phase_seconds_count', { phase });
    const before = await scrape();
    const agent = await waitForState(t, (await spawnCommand(t, 'echo phase > p.txt', { taskId: 'phases' })).id);
    expect(agent.state).toBe('completed');
    const after = await scrape();
    // A cold agent passes every phase but `pool`; each is observed once, at running or at its end.
    for (const phase of ['queued', 'worktree', 'copy', 'sandbox', 'setup', 'launch', 'run', 'import', 'snapshot', 'remove']) {
      expect(count(after, phase) - count(before, phase), phase).toBe(1);
    }
    expect(count(after, 'pool') - count(before, 'pool')).toBe(0);
    // The observed seconds are the record's milliseconds.
    const sum = (samples: Sample[]): number => value(samples, 'mosaic_agent_phase_seconds_sum', { phase: 'worktree' });
    expect(sum(after) - sum(before)).toBeCloseTo((agent.timings?.worktree ?? -1) / 1000, 6);
    expect(after.some((s) => s.name === 'mosaic_agent_phase_seconds_bucket' && s.labels.phase === 'worktree' && s.labels.le === '+Inf')).toBe(true);
  }, 60_000);
});
