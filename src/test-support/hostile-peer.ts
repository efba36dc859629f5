import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newAgentId } from '../core/ids.js';
import { encodeSigned, makeEnvelope, type Envelope } from '../federation/protocol/index.js';
import { party, type Party } from './federation-forge.js';

/**
 * A federation peer that is not Mosaic: it speaks the protocol (real keys,
 * signed answers to the hub's signed messages) but answers what the test
 * tells it to, e.g. an agent on the branch `main` or a bundle carrying
 * extra refs. It accepts any CONNECT as active and trusts whatever it is
 * sent: it is the hostile side, so only the hub's checks are under test.
 */
export interface HostilePeer {
  url: string;
  identity: Party;
  /** The agent record answered to `agent.spawn`; `args` are the spawn's, `hub` the sender's instance id. */
  onSpawn: (args: Record<string, unknown>, hub: string) => Record<string, unknown>;
  /** The result answered to `agent.bundle` (`{branch, base, head, bytes, bundle}`). */
  onBundle: (agentId: string) => Record<string, unknown>;
  /** Every command it was sent, in order. */
  commands: string[];
  /** Signs an envelope from this peer to `to` (an EVENT pushed at the hub, say). */
  signed(env: Envelope): { bytes: Buffer; signature: string };
  close(): Promise<void>;
}

/** A completed `command` agent record, as a Mosaic spoke would answer a spawn with it (fields overridable). */
export function completedAgent(args: Record<string, unknown>, hub: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const id = newAgentId();
  const taskId = String(args.taskId);
  const now = Date.now();
  return {
    id, state: 'completed', taskId, type: 'worker', repo: args.repo, branch: `agent-${id}-${taskId}`, baseBranch: args.baseBranch ?? 'main',
    worktreePath: `/srv/${id}`, pooled: false, runtime: args.runtime ?? { kind: 'claude' }, prompt: args.prompt, priority: 5, timeoutS: null,
    origin: hub, idempotencyKey: null, pid: null, pgid: null, port: null, exitCode: 0, error: null, result: null, progress: null,
    killRequested: false, landed: null, retryOf: null, followUpOf: null, sandbox: null, limits: null,
    createdAt: now, startedAt: now, endedAt: now, updatedAt: now, ...extra,
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startHostilePeer(): Promise<HostilePeer> {
  const identity = party();
  const publicKey = identity.raw.toString('base64');
  const peer: HostilePeer = {
    url: '',
    identity,
    onSpawn: (args, hub) => completedAgent(args, hub),
    onBundle: () => { throw new Error('no bundle configured'); },
    commands: [],
    signed: (env) => encodeSigned(env, identity.privateKey),
    close: async () => undefined,
  };
  const instance = (): Record<string, unknown> => ({ instanceId: identity.id, name: 'hostile', url: peer.url, publicKey });

  const answer = (res: ServerResponse, to: Envelope, body: Record<string, unknown>): void => {
    const env = makeEnvelope({ kind: 'RESPONSE', from: identity.id, to: to.from, correlationId: to.id, body });
    const { bytes, signature } = encodeSigned(env, identity.privateKey);
    res.writeHead(200, { 'content-type': 'application/json', 'mosaic-signature': signature });
    res.end(bytes);
  };

  const result = (env: Envelope): Record<string, unknown> => {
    const body = env.body as { command?: string; args?: Record<string, unknown> };
    if (env.kind === 'CONNECT') return { state: 'active', instance: instance() };
    if (env.kind !== 'COMMAND') throw new Error(`${env.kind} is not handled`);
    peer.commands.push(String(body.command));
    const args = body.args ?? {};
    if (body.command === 'agent.spawn') return { agent: peer.onSpawn(args, env.from), created: true };
    if (body.command === 'agent.bundle') return peer.onBundle(String(args.agentId));
    throw new Error(`${String(body.command)} is not handled`);
  };

  const server = createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET' && req.url === '/api/v1/federation/instance') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...instance(), protocolVersion: '1', capabilities: [] }));
        return;
      }
      const env = JSON.parse((await readBody(req)).toString('utf8')) as Envelope;
      try {
        answer(res, env, { ok: true, result: result(env) });
      } catch (err) {
        answer(res, env, { ok: false, error: { code: 'not_handled', message: (err as Error).message } });
      }
    })().catch(() => {
      res.writeHead(400);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  peer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  peer.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return peer;
}
