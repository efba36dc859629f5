import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentRecord } from '../core/agent-model.js';

/** A fresh temp folder and a function that removes it. */
export function tempDir(prefix = 'mosaic-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let counter = 0;

/** A valid queued agent record; ids are unique per call. */
export function makeAgent(overrides: Partial<AgentRecord> = {}): AgentRecord {
  counter += 1;
  const id = overrides.id ?? `agent${String(counter).padStart(5, '0')}`;
  return {
    id,
    state: 'queued',
    taskId: 'task-1',
    type: 'worker',
    repo: 'demo',
    branch: `agent-${id}-task-1`,
    baseBranch: 'main',
    worktreePath: `/tmp/demo_worktrees/agent-${id}-task-1`,
    pooled: false,
    runtime: { kind: 'command', argv: ['sh', '-c', 'echo hi'] },
    prompt: 'do the thing',
    env: {},
    priority: 5,
    timeoutS: null,
    budgetUsd: null,
    waitingFor: null,
    origin: 'local',
    idempotencyKey: null,
    pid: null,
    pgid: null,
    port: null,
    exitCode: null,
    error: null,
    result: null,
    progress: null,
    landed: null,
    retryOf: null,
    followUpOf: null,
    killRequested: false,
    sandbox: null,
    limits: null,
    timings: null,
    node: null,
    retryOnNodeLost: false,
    createdAt: 1_700_000_000_000 + counter,
    startedAt: null,
    endedAt: null,
    updatedAt: 1_700_000_000_000 + counter,
    ...overrides,
  };
}
