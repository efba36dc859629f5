import type { FastifyInstance } from 'fastify';
import type { ConflictWatcher } from '../../agents/index.js';
import { commonErrors, nameParams } from '../schemas.js';

const pathList = { type: 'array', items: { type: 'string' } } as const;

export const conflictsSchema = {
  type: 'object',
  properties: {
    repo: { type: 'string' },
    pairs: {
      type: 'array',
      items: {
        type: 'object',
        properties: { agents: { type: 'array', items: { type: 'string' } }, paths: pathList, conflicts: { type: 'boolean' } },
      },
    },
    base: { type: 'array', items: { type: 'object', properties: { agent: { type: 'string' }, paths: pathList } } },
  },
} as const;

/** GET /repos/:name/conflicts — the conflict radar of one repository. */
export async function conflictRoutes(app: FastifyInstance, opts: { conflicts: ConflictWatcher }): Promise<void> {
  app.get<{ Params: { name: string } }>('/repos/:name/conflicts', {
    schema: {
      tags: ['repos'],
      summary: 'Which agents touch common paths, which pairs would conflict, which conflict with their base',
      description: 'Running agents count with their uncommitted edits; finished agents not landed yet by their branch. '
        + 'Changes are also announced on GET /events as `event: repo.conflicts` (without an id).',
      params: nameParams,
      response: { 200: conflictsSchema, ...commonErrors },
    },
  }, async (request) => opts.conflicts.report(request.params.name));
}
