import type { LogPage } from '../agents/logs.js';
import type { RemoteAgentReads } from '../agents/placement.js';
import { MosaicError, messageOf } from '../core/errors.js';
import type { NodeAuth } from './node-auth.js';
import type { NodeRegistry } from './nodes.js';

/** Internal routes (node to node, NodeAuth): under /api/v1. */
export const INTERNAL_PREFIX = '/cluster/internal';
/** A forwarded read waits at most this long for its answer (a log read's own wait comes on top). */
const TIMEOUT_MS = 15_000;
/** A forwarded kill gives up sooner: the agent is marked killRequested already and its node's monitor signals it anyway. */
const KILL_TIMEOUT_MS = 5_000;

/**
 * Reads (and the kill) of an agent on another node, forwarded to that node's internal URL
 * and signed with the cluster secret (NodeAuth); its errors come back as
 * they were (404 agent_not_found …), a lost node is 409 node_lost.
 */
export function forwardedReads(registry: NodeRegistry, auth: NodeAuth, node: string, agentId: string): RemoteAgentReads {
  const call = async (method: 'GET' | 'POST', path: string, timeoutMs: number, signal?: AbortSignal): Promise<Response> => {
    const base = await registry.urlOf(node);
    const full = `/api/v1${INTERNAL_PREFIX}/agents/${encodeURIComponent(agentId)}${path}`;
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(new URL(full, base), { method, headers: auth.sign(method, full), signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (err) {
      throw new MosaicError(502, 'node_unreachable', `node '${node}' runs this agent and cannot be reached: ${messageOf(err)}`, { node });
    }
    if (!res.ok) {
      const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
      throw new MosaicError(res.status, body?.error?.code ?? 'node_error', body?.error?.message ?? `node '${node}' answered ${res.status}`, { node });
    }
    return res;
  };
  const get = (path: string, waitMs = 0, signal?: AbortSignal): Promise<Response> => call('GET', path, TIMEOUT_MS + waitMs, signal);
  return {
    async logs(after, limit, wait) {
      const waitMs = Math.max(0, wait.waitMs ?? 0);
      const res = await get(`/logs?after=${after}&limit=${limit}&waitMs=${waitMs}`, waitMs, wait.signal);
      return (await res.json()) as LogPage & { ended: boolean };
    },
    async diff() {
      return (await get('/diff')).text();
    },
    async kill() {
      await call('POST', '/kill', KILL_TIMEOUT_MS);
    },
  };
}
