import type { FastifyInstance } from 'fastify';
import { commonErrors } from '../http/schemas.js';
import { MAX_FLEET_BUDGET_USD } from './budgets.js';
import type { FleetGovernor } from './governor.js';
import type { BudgetAction } from './store.js';
import { BUDGET_PERIODS, type BudgetPeriod } from './windows.js';

const scopeParams = {
  type: 'object',
  required: ['scope'],
  properties: { scope: { type: 'string', minLength: 1, maxLength: 200, description: 'instance, repo:<name> or peer:<name>' } },
} as const;

const budgetBody = {
  type: 'object',
  additionalProperties: false,
  required: ['usd', 'per'],
  properties: {
    usd: { type: 'number', exclusiveMinimum: 0, maximum: MAX_FLEET_BUDGET_USD, description: 'USD the scope may spend per window' },
    per: { type: 'string', enum: [...BUDGET_PERIODS], description: 'the window: a UTC day, a week from Monday 00:00 UTC, a calendar month (UTC)' },
    onExhausted: { type: 'string', enum: ['queue', 'kill'], description: 'queue (default): new spawns wait queued; kill: running agents are killed too' },
  },
} as const;

export const budgetSchema = {
  type: 'object',
  required: ['scope', 'usd', 'per', 'spentUsd', 'leftUsd', 'resetsAt', 'onExhausted'],
  properties: {
    scope: { type: 'string' },
    usd: { type: 'number' },
    per: { type: 'string', enum: [...BUDGET_PERIODS] },
    spentUsd: { type: 'number', description: 'spent in the current window: every agent\'s final or latest cost (estimates included), counted in the window it started in' },
    leftUsd: { type: 'number' },
    resetsAt: { type: 'integer', description: 'ms since epoch: the start of the next window' },
    onExhausted: { type: 'string', enum: ['queue', 'kill'] },
    fromGrant: { type: 'boolean', description: 'the daily cap of a peer\'s grant (maxCostUsdPerDay); edited with the grant' },
  },
} as const;

const limitSchema = {
  type: 'object',
  required: ['runtime', 'state', 'resetsAt'],
  properties: {
    runtime: { type: 'string' },
    state: { type: 'string', enum: ['paused', 'warning'], description: 'paused: its agents wait queued until resetsAt; warning: close to the limit, nothing paused' },
    resetsAt: { type: 'integer', description: 'ms since epoch' },
  },
} as const;

/** /api/v1/budgets and /api/v1/limits (admin). */
export async function fleetRoutes(app: FastifyInstance, opts: { governor: FleetGovernor }): Promise<void> {
  const { governor } = opts;
  const tags = ['fleet'];

  app.get('/budgets', {
    schema: { tags, summary: 'Fleet budgets with what is spent and left in their window', response: { 200: { type: 'object', required: ['budgets'], properties: { budgets: { type: 'array', items: budgetSchema } } } } },
  }, async () => ({ budgets: await governor.budgets.list() }));

  app.get<{ Params: { scope: string } }>('/budgets/:scope', {
    schema: { tags, summary: 'One fleet budget', params: scopeParams, response: { 200: budgetSchema, ...commonErrors } },
  }, async (request) => governor.budgets.get(request.params.scope));

  app.put<{ Params: { scope: string }; Body: { usd: number; per: BudgetPeriod; onExhausted?: BudgetAction } }>('/budgets/:scope', {
    schema: {
      tags,
      summary: 'Set a scope\'s budget (instance, repo:<name>, peer:<name>); raising a spent one starts its waiting agents',
      params: scopeParams, body: budgetBody, response: { 200: budgetSchema, ...commonErrors },
    },
  }, async (request) => governor.putBudget(request.params.scope, request.body));

  app.delete<{ Params: { scope: string } }>('/budgets/:scope', {
    schema: { tags, summary: 'Remove a scope\'s budget', params: scopeParams, response: { 204: { type: 'null', description: 'removed' }, ...commonErrors } },
  }, async (request, reply) => {
    await governor.removeBudget(request.params.scope);
    return reply.status(204).send();
  });

  app.get('/limits', {
    schema: { tags, summary: 'Runtimes paused by (or close to) their rate limit', response: { 200: { type: 'object', required: ['limits'], properties: { limits: { type: 'array', items: limitSchema } } } } },
  }, async () => ({ limits: governor.activeLimits() }));
}
