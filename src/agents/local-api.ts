import { conflict, invalid } from '../core/errors.js';
import type { AgentApi, ListQuery } from './api.js';
import { publicAgent } from './public.js';
import type { AgentService } from './service.js';

/** AgentApi over this instance's agents only (no federation configured). */
export function localAgentApi(service: AgentService): AgentApi {
  return {
    async spawn(request) {
      if (request.peer !== undefined) throw invalid('unknown_peer', `no federated peer '${request.peer}'`, { field: 'peer' });
      const { agent, created } = await service.spawn(request);
      return { agent: publicAgent(agent), created };
    },
    get: async (id) => publicAgent(await service.get(id)),
    list: async ({ scope: _scope, ...filter }: ListQuery) => (await service.list(filter)).map(publicAgent),
    kill: async (id) => publicAgent(await service.kill(id)),
    killAll: () => service.killAll(),
    discard: (id, opts) => service.discard(id, opts),
    checkout: (id) => service.checkout(id),
    logs: (id, after, limit, wait) => service.logs(id, after, limit, wait),
    diff: (id) => service.diff(id),
    retry: async (id, request) => publicAgent(await service.retry(id, request)),
    // Only `prompt` from a caller of the API: an idempotency key is a peer's message id (federation handler).
    reply: async (id, request) => publicAgent(await service.reply(id, { prompt: request.prompt })),
    fetch: async (id) => {
      const agent = await service.get(id);
      throw conflict('agent_not_remote', `agent '${agent.id}' ran here: its branch ${agent.branch} is already in repository ${agent.repo}`);
    },
    push: async (id, request) => {
      const { agent, pushed } = await service.push(id, request);
      return { agent: publicAgent(agent), pushed };
    },
    land: async (id, request) => {
      const { agent, landed } = await service.land(id, request);
      return { agent: publicAgent(agent), landed };
    },
  };
}
