import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { TaskState } from '@a2a-js/sdk';
import { performance } from 'node:perf_hooks';
import { a2aClient, sendRequest, userMessage } from '../src/test-support/a2a.js';
import { startTestInstance, type TestInstance } from '../src/test-support/instance.js';
import { makeTestRepo } from '../src/test-support/test-repo.js';
import type { BenchResult } from './types.js';

/**
 * What driving Mosaic from another agent costs over driving its HTTP API
 * directly, in the same run on the same instance (runs alternate so load
 * hits both alike):
 * - MCP: `spawn_agent` + `wait_agents` (one tool call each, over Streamable
 *   HTTP with the official SDK client) against `POST /agents` then polling
 *   `GET /agents/:id` every 10 ms until it ends;
 * - A2A: `SendMessage` (returnImmediately) then `SubscribeToTask` until the
 *   task is `working`, against `POST /agents` then polling until the agent
 *   is spawning or running.
 */

const N = 8;
const WORK = { kind: 'command', argv: ['sh', '-c', 'echo work > out.txt'] };
const SHORT = { kind: 'command', argv: ['sleep', '1'] };
const ENDED = ['completed', 'failed', 'killed'];

async function pollUntil(t: TestInstance, id: string, done: (state: string) => boolean): Promise<string> {
  for (;;) {
    const { body } = await t.api<{ state: string }>('GET', `/agents/${id}`);
    if (done(body.state)) return body.state;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function httpRoundTrip(t: TestInstance, i: number): Promise<number> {
  const start = performance.now();
  const { body } = await t.api<{ id: string }>('POST', '/agents', { repo: 'bench', taskId: `h${i}`, prompt: 'bench', runtime: WORK });
  await pollUntil(t, body.id, (state) => ENDED.includes(state));
  return performance.now() - start;
}

async function mcpRoundTrip(client: McpClient, i: number): Promise<number> {
  const start = performance.now();
  const spawned = await client.callTool({ name: 'spawn_agent', arguments: { repo: 'bench', taskId: `m${i}`, prompt: 'bench', runtime: WORK } });
  const id = (spawned.structuredContent as { agent: { id: string } }).agent.id;
  const waited = await client.callTool({ name: 'wait_agents', arguments: { ids: [id], timeoutS: 120 } }, undefined, { timeout: 180_000 });
  if ((waited.structuredContent as { timedOut: boolean }).timedOut) throw new Error(`agent ${id} did not end`);
  return performance.now() - start;
}

async function httpToWorking(t: TestInstance, i: number): Promise<{ ms: number; id: string }> {
  const start = performance.now();
  const { body } = await t.api<{ id: string }>('POST', '/agents', { repo: 'bench', taskId: `hw${i}`, prompt: 'bench', runtime: SHORT });
  await pollUntil(t, body.id, (state) => state === 'spawning' || state === 'running' || ENDED.includes(state));
  return { ms: performance.now() - start, id: body.id };
}

async function a2aToWorking(client: Awaited<ReturnType<typeof a2aClient>>): Promise<{ ms: number; id: string }> {
  const start = performance.now();
  const task = await client.sendMessage(sendRequest(userMessage('bench', { repo: 'bench', runtime: SHORT }), true)) as { id: string; status?: { state: TaskState } };
  if (task.status?.state !== TaskState.TASK_STATE_WORKING) {
    for await (const event of client.resubscribeTask({ tenant: '', id: task.id })) {
      const state = event.payload?.$case === 'task' ? event.payload.value.status?.state
        : event.payload?.$case === 'statusUpdate' ? event.payload.value.status?.state : undefined;
      if (state !== undefined && state !== TaskState.TASK_STATE_SUBMITTED) break;
    }
  }
  return { ms: performance.now() - start, id: task.id };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

export async function benchInterop(): Promise<BenchResult[]> {
  const repo = makeTestRepo();
  const t = await startTestInstance({ maxAgents: 4, pollMs: 20 });
  const mcp = new McpClient({ name: 'bench', version: '1' });
  try {
    await t.api('POST', '/repos', { name: 'bench', path: repo.path });
    await mcp.connect(new StreamableHTTPClientTransport(new URL('/mcp', t.url), { requestInit: { headers: { authorization: `Bearer ${t.adminToken}` } } }));
    const a2a = await a2aClient(t.url, t.adminToken);
    // One of each first, unmeasured: module loading and the first sandbox setup are not what is compared.
    await httpRoundTrip(t, -1);
    await mcpRoundTrip(mcp, -1);

    const http: number[] = [];
    const viaMcp: number[] = [];
    const httpWorking: number[] = [];
    const viaA2a: number[] = [];
    const started: string[] = [];
    for (let i = 0; i < N; i++) {
      http.push(await httpRoundTrip(t, i));
      viaMcp.push(await mcpRoundTrip(mcp, i));
      const h = await httpToWorking(t, i);
      const a = await a2aToWorking(a2a);
      httpWorking.push(h.ms);
      viaA2a.push(a.ms);
      started.push(h.id, a.id);
      // The next pair starts on an idle instance: the short agents of this one end first.
      for (const id of started.splice(0)) await pollUntil(t, id, (state) => ENDED.includes(state));
    }
    const row = (name: string, baseline: number[], mosaic: number[], notes: string): BenchResult => {
      const b = median(baseline);
      const m = median(mosaic);
      return { name, baselineMs: Math.round(b * 10) / 10, mosaicMs: Math.round(m * 10) / 10, ratio: Math.round((m / b) * 100) / 100, notes };
    };
    return [
      row('MCP spawn_agent + wait_agents, one agent end to end', http, viaMcp, `median of ${N}; baseline: POST /agents + GET every 10 ms until it ends (target <= 1.1x)`),
      row('A2A SendMessage -> working', httpWorking, viaA2a, `median of ${N}; baseline: POST /agents + GET every 10 ms until spawning/running`),
    ];
  } finally {
    await mcp.close().catch(() => {});
    await t.stop();
    repo.cleanup();
  }
}
