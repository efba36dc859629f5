import type { FastifyInstance } from 'fastify';
import type { AgentService } from '../../agents/index.js';

const worktree = {
  type: 'object',
  properties: {
    path: { type: 'string' },
    branch: { type: ['string', 'null'] },
    repo: { type: 'string' },
    agentId: { type: ['string', 'null'] },
    orphan: { type: 'boolean' },
    instance: { type: 'string', description: 'the instance that made the worktree (another instance\'s are never reconciled here)' },
    pooled: { type: 'boolean', description: 'held ready by the warm pool' },
    broken: { type: 'string', description: 'present when git\'s admin entry for it is broken (HEAD names no commit, gitdir unusable): why; reconciliation salvages and prunes it' },
  },
} as const;

export async function worktreeRoutes(app: FastifyInstance, opts: { agents: AgentService }): Promise<void> {
  const { agents } = opts;
  const tags = ['worktrees'];

  app.get('/worktrees', {
    schema: { tags, summary: 'Managed worktrees and their owners', response: { 200: { type: 'object', properties: { worktrees: { type: 'array', items: worktree } } } } },
  }, async () => ({ worktrees: await agents.worktrees() }));

  app.post('/worktrees/reconcile', {
    schema: {
      tags,
      summary: 'Snapshot and remove worktrees no live agent owns, then prune',
      response: {
        200: {
          type: 'object',
          properties: {
            removed: { type: 'array', items: worktree },
            kept: { type: 'array', items: worktree },
            errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
      },
    },
  }, async () => agents.reconcile());
}
