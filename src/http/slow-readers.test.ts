import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSse } from '../cli/client.js';
import { makeTempRepo, type TempDir } from '../test-support/git-fixtures.js';
import { FAKE_CLAUDE_BIN } from '../test-support/index.js';
import { startServerChild, type ServerChild } from '../test-support/server-child.js';
import { waitFor } from '../test-support/wait.js';

const READERS = 300;
const AGENTS = 20;
/**
 * Every event carries the agent record; a claude agent's `completed` event
 * carries its result, here 500 KB (the fake claude returns what the command
 * printed): 20 agents make 10 MB per reader, more than the kernel's socket
 * buffers take (about 4 MB on loopback).
 */
const PROMPT = "[fake:shell] head -c 500000 /dev/zero | tr '\\0' x";
/**
 * The stated bound: while 300 readers do not read, the server's resident
 * memory grows by less than this over its idle size. Without a bound on what
 * it buffers per reader it grew by about 2 GiB here (each reader's unread
 * events, kernel socket buffers aside); with it, by about 80 MiB, of which
 * about 50 MiB is the 20 agents' own work without any reader.
 */
const RSS_GROWTH_BOUND_MIB = 160;

interface PausedReader {
  socket: Socket;
  /** Resumes reading; resolves with everything the reader got once the server has closed its connection. */
  drain(): Promise<string>;
}

/** A client that sends its GET /events and never reads the answer. */
function pausedReader(server: ServerChild): Promise<PausedReader> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: server.port });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(`GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${server.adminToken}\r\n\r\n`);
      socket.pause();
      socket.off('error', reject);
      socket.on('error', () => undefined); // a reset is how the server drops it
      resolve({
        socket,
        drain: () => new Promise((done) => {
          let text = '';
          socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
          socket.once('close', () => done(text));
          socket.resume();
        }),
      });
    });
  });
}

/** Reads /events (after `lastEventId`) until `done` says so: the ids seen and each agent's last state. */
async function readEventIds(server: ServerChild, done: (ids: number[], states: Map<string, string>) => boolean, lastEventId?: number): Promise<{ ids: number[]; states: Map<string, string> }> {
  const headers: Record<string, string> = { authorization: `Bearer ${server.adminToken}` };
  if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 90_000);
  const ids: number[] = [];
  const states = new Map<string, string>();
  try {
    const res = await fetch(`${server.url}/api/v1/events`, { headers, signal: controller.signal });
    expect(res.status).toBe(200);
    for await (const event of parseSse(res.body as unknown as AsyncIterable<Uint8Array>)) {
      if (event.id === undefined) continue; // conflict notices carry no id
      ids.push(Number(event.id));
      if (event.event === 'agent.state') {
        const agent = JSON.parse(event.data) as { id: string; state: string };
        states.set(agent.id, agent.state);
      }
      if (done(ids, states)) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { ids, states };
}

function expectContiguous(ids: number[], first: number, last: number): void {
  expect(ids[0]).toBe(first);
  expect(ids.at(-1)).toBe(last);
  for (let i = 1; i < ids.length; i += 1) expect(ids[i]).toBe((ids[i - 1] ?? 0) + 1);
}

/**
 * Issue 7, must-hold 16: slow event readers cannot grow memory. 300 clients
 * ask for /events and never read while 20 agents run; the server (a child
 * process, measured from /proc) drops each once its socket stays backed up
 * (MOSAIC_SSE_STALL_MS, 1 s here), its memory stays under the stated bound,
 * a client that reads gets every event, and a dropped one that reconnects
 * with Last-Event-ID gets what it missed.
 */
describe('slow SSE readers', () => {
  let server: ServerChild | undefined;
  let repo: TempDir | undefined;
  const readers: PausedReader[] = [];

  afterAll(async () => {
    readers.forEach((r) => r.socket.destroy());
    await server?.stop();
    repo?.cleanup();
  });

  it('are dropped, memory stays bounded, and no event is lost', { timeout: 150_000 }, async () => {
    repo = await makeTempRepo();
    const s = await startServerChild({ env: { MOSAIC_SSE_STALL_MS: '1000', MOSAIC_MAX_CONNECTIONS_PER_ADDRESS: '1000', MOSAIC_CLAUDE_BIN: FAKE_CLAUDE_BIN } });
    server = s;
    expect((await s.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
    const spawn = async (taskId: string) => {
      const res = await s.api<{ id: string }>('POST', '/agents', {
        repo: 'app', taskId, prompt: PROMPT, runtime: { kind: 'claude' },
      });
      expect(res.status).toBe(202);
      return res.body.id;
    };
    const ended = async (ids: string[]) => {
      const { body } = await s.api<{ agents: { id: string; state: string }[] }>('GET', '/agents');
      return ids.every((id) => ['completed', 'failed', 'killed'].includes(body.agents.find((a) => a.id === id)?.state ?? ''));
    };
    // A first agent loads everything a spawn needs, so the baseline is the server at work, not just started.
    const warm = await spawn('warm-up');
    await waitFor(() => ended([warm]), { timeoutMs: 30_000, what: 'the warm-up agent' });
    const baselineKiB = s.rssKiB();
    const baselineSockets = s.openSockets();

    const agentIds: string[] = [warm];
    const everyone = readEventIds(s, (_ids, states) => agentIds.length === AGENTS + 1
      && agentIds.every((id) => ['completed', 'failed', 'killed'].includes(states.get(id) ?? '')));
    for (let i = 0; i < READERS; i += 1) readers.push(await pausedReader(s));
    await waitFor(() => s.openSockets() >= baselineSockets + READERS, { timeoutMs: 20_000, what: 'the server to hold every reader' });

    let peakKiB = s.rssKiB();
    const sampler = setInterval(() => {
      try {
        peakKiB = Math.max(peakKiB, s.rssKiB());
      } catch {
        // the server is gone; the assertions below say so
      }
    }, 50);
    try {
      for (let i = 0; i < AGENTS; i += 1) agentIds.push(await spawn(`agent-${i}`));
      await everyone; // it reads until every agent has ended
      // Every reader that does not read is dropped: the server no longer holds their sockets.
      await waitFor(() => s.openSockets() < baselineSockets + READERS / 10, { timeoutMs: 30_000, intervalMs: 200, what: 'the paused readers to be dropped' });
    } finally {
      clearInterval(sampler);
    }
    const growthMiB = (peakKiB - baselineKiB) / 1024;
    expect(growthMiB, `RSS ${Math.round(baselineKiB / 1024)} MiB → peak ${Math.round(peakKiB / 1024)} MiB`).toBeLessThan(RSS_GROWTH_BOUND_MIB);

    // The client that read got every event, in order, none twice.
    const all = await everyone;
    expect(agentIds.filter((id) => !['completed', 'failed', 'killed'].includes(all.states.get(id) ?? ''))).toEqual([]);
    const last = all.ids.at(-1) ?? 0;
    expectContiguous(all.ids, 1, last);

    // Seen from the readers: every connection was closed by the server, some events short of the end.
    const received = await Promise.all(readers.map((r) => r.drain()));
    const dropped = received[0] ?? '';
    const frames = [...dropped.matchAll(/id: (\d+)\nevent: [^\n]+\n(?:data: [^\n]*\n)+\n/g)].map((m) => Number(m[1]));
    const resumeAfter = frames.at(-1) ?? 0;
    expect(resumeAfter).toBeLessThan(last);
    // It reconnects with Last-Event-ID and gets exactly what it missed.
    const resumed = await readEventIds(s, (ids) => ids.at(-1) === last, resumeAfter);
    expectContiguous(resumed.ids, resumeAfter + 1, last);
  });
});
