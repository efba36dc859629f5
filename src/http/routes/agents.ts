import type { FastifyInstance } from 'fastify';
import type { AgentApi, AgentState, FetchRequest, LandRequest, PushRequest, RetryRequest, SpawnRequest } from '../../agents/index.js';
import { agentSchema, commonErrors, errorResponse, idParams, fetchBody, fetchResponse, landBody, landResponse, name, pushBody, pushResponse, replyBody, retryBody, spawnBody } from '../schemas.js';
import { openSse, type SseLimits } from '../sse.js';

const states = ['queued', 'spawning', 'running', 'completed', 'failed', 'killed'];
/** How long one read of a followed log waits for new lines before reading again (see agents/logs.ts LogWait). */
const LOG_FOLLOW_WAIT_MS = 20_000;

interface ListQuerystring { state?: AgentState; repo?: string; taskId?: string; scope?: 'local' | 'all' }
interface LogsQuerystring { after?: number; limit?: number; follow?: '1' | '0' | 'true' | 'false' }

export async function agentRoutes(app: FastifyInstance, opts: { agents: AgentApi; sse?: SseLimits }): Promise<void> {
  const { agents } = opts;
  const tags = ['agents'];

  app.post<{ Body: SpawnRequest }>('/agents', {
    schema: {
      tags,
      summary: 'Spawn an agent (here, or on a federated peer with `peer`)',
      description: 'Returns 202 with the queued agent; a repeated idempotencyKey returns the first agent with 200.',
      body: spawnBody,
      response: { 200: agentSchema, 202: agentSchema, 429: errorResponse, ...commonErrors },
    },
  }, async (request, reply) => {
    const { agent, created } = await agents.spawn(request.body);
    return reply.status(created ? 202 : 200).send(agent);
  });

  app.get<{ Querystring: ListQuerystring }>('/agents', {
    schema: {
      tags,
      summary: 'List agents',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { state: { type: 'string', enum: states }, repo: name, taskId: name, scope: { type: 'string', enum: ['local', 'all'] } },
      },
      response: { 200: { type: 'object', properties: { agents: { type: 'array', items: agentSchema } } }, ...commonErrors },
    },
  }, async (request) => ({ agents: await agents.list(request.query) }));

  app.post('/agents/kill-all', {
    schema: {
      tags,
      summary: 'Kill every active agent',
      response: {
        200: {
          type: 'object',
          properties: {
            total: { type: 'integer' },
            killed: { type: 'integer' },
            failed: { type: 'integer' },
            errors: { type: 'array', items: { type: 'object', additionalProperties: true } },
            orphaned: {
              type: 'array',
              description: 'remote agents whose peer is disconnected: no kill reaches them, so they are neither killed nor failed',
              items: { type: 'object', properties: { agentId: { type: 'string' }, peer: { type: 'string' } } },
            },
          },
        },
      },
    },
  }, async () => agents.killAll());

  app.get<{ Params: { id: string } }>('/agents/:id', {
    schema: {
      tags,
      summary: 'One agent',
      description: 'For a local agent, `checkout` says whether its worktree and branch exist now.',
      params: idParams,
      response: { 200: agentSchema, ...commonErrors },
    },
  }, async (request) => {
    const agent = await agents.get(request.params.id);
    const checkout = await agents.checkout(request.params.id);
    return checkout ? { ...agent, checkout } : agent;
  });

  app.post<{ Params: { id: string } }>('/agents/:id/kill', {
    schema: { tags, summary: 'Kill an agent (SIGTERM, then SIGKILL after the grace period)', params: idParams, response: { 202: agentSchema, ...commonErrors } },
  }, async (request, reply) => reply.status(202).send(await agents.kill(request.params.id)));

  app.delete<{ Params: { id: string }; Querystring: { force?: 'true' | 'false' | '1' | '0' } }>('/agents/:id', {
    schema: {
      tags,
      summary: 'Discard a finished agent and its branch',
      description: 'A branch with commits its base does not have (and that were never landed) is refused with 409 `unmerged_commits` '
        + '(details.commitsAhead) unless `force=true`.',
      params: idParams,
      querystring: { type: 'object', additionalProperties: false, properties: { force: { type: 'string', enum: ['true', 'false', '1', '0'] } } },
      response: { 204: { type: 'null', description: 'discarded' }, ...commonErrors },
    },
  }, async (request, reply) => {
    const force = request.query.force === 'true' || request.query.force === '1';
    await agents.discard(request.params.id, { force });
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string } }>('/agents/:id/diff', {
    schema: { tags, summary: 'Diff of the agent branch against its base (text/plain)', params: idParams, response: { ...commonErrors } },
  }, async (request, reply) => reply.type('text/plain; charset=utf-8').send(await agents.diff(request.params.id)));

  app.post<{ Params: { id: string }; Body: LandRequest | undefined }>('/agents/:id/land', {
    schema: {
      tags,
      summary: 'Land a finished agent\'s branch into its base branch (or `into`)',
      description: 'Computed without a checkout; the target moves only if it still holds the commit the result was computed on. '
        + '409 `target_dirty` (target checked out with uncommitted changes), `land_conflict` (details.paths), '
        + '`agent_not_finished`, `nothing_to_land`, `target_moved` (retryable); nothing changes in any of these cases.',
      params: idParams,
      body: landBody,
      response: { 200: landResponse, ...commonErrors },
    },
  }, async (request) => agents.land(request.params.id, request.body ?? {}));

  app.post<{ Params: { id: string }; Body: RetryRequest | undefined }>('/agents/:id/retry', {
    schema: {
      tags,
      summary: 'Start a new agent with the same request as a finished one',
      description: '`continue`: the new agent\'s branch starts at the old agent\'s branch tip (its base stays the same); '
        + '`resume`: claude agents continue the recorded session (`claude --resume`). 202 with the new agent.',
      params: idParams,
      body: retryBody,
      response: { 202: agentSchema, 429: errorResponse, ...commonErrors },
    },
  }, async (request, reply) => reply.status(202).send(await agents.retry(request.params.id, request.body ?? {})));

  app.post<{ Params: { id: string }; Body: { prompt: string } }>('/agents/:id/reply', {
    schema: {
      tags,
      summary: 'Follow up on a finished agent with a new instruction',
      description: 'A new agent (202) on the old agent\'s branch tip, its base unchanged, linked by `followUpOf`; a claude agent '
        + 'resumes its recorded session. 409 `agent_not_finished` while the agent runs, `agent_not_local` for an agent a peer '
        + 'spawned here; 404 `branch_not_found` when its branch is gone. A remote agent\'s follow-up runs on its peer '
        + '(`agent.reply`, granted with agent.spawn there; 409 `peer_not_active` when that peer is not connected).',
      params: idParams,
      body: replyBody,
      response: { 202: agentSchema, 429: errorResponse, ...commonErrors },
    },
  }, async (request, reply) => reply.status(202).send(await agents.reply(request.params.id, { prompt: request.body.prompt })));

  app.post<{ Params: { id: string }; Body: FetchRequest | undefined }>('/agents/:id/fetch', {
    schema: {
      tags,
      summary: 'Bring a remote agent\'s branch into the repository here of the same name (or `repo`)',
      description: 'The peer sends the branch as a git bundle relative to its base (signed `agent.bundle`); it is verified and '
        + 'fetched into `refs/heads/agent-<id>-<task>` (a name this instance derives). 409 `base_missing` when this repository lacks '
        + 'the base commit, 413 `bundle_too_large` over MOSAIC_BUNDLE_MAX_BYTES, 502 `peer_misreported` when the peer names another '
        + 'branch or ref or its objects fail fsck; nothing is written in any of these cases.',
      params: idParams,
      body: fetchBody,
      response: { 200: fetchResponse, 413: errorResponse, ...commonErrors },
    },
  }, async (request) => agents.fetch(request.params.id, request.body ?? {}));

  app.post<{ Params: { id: string }; Body: PushRequest | undefined }>('/agents/:id/push', {
    schema: {
      tags,
      summary: 'Push a finished agent\'s branch to a git remote of its repository (`pr`: also open a pull request with gh)',
      description: 'The remote must be one the repository has (400 `unknown_remote`); never forced, no hooks. '
        + '409 `agent_not_finished`, `push_rejected` (the remote branch has other commits), `gh_not_installed` (nothing pushed); '
        + '502 `push_failed`, `pr_failed` (pushed, no pull request). A remote agent\'s work is fetched here first.',
      params: idParams,
      body: pushBody,
      response: { 200: pushResponse, ...commonErrors },
    },
  }, async (request) => agents.push(request.params.id, request.body ?? {}));

  app.get<{ Params: { id: string }; Querystring: LogsQuerystring }>('/agents/:id/logs', {
    schema: {
      tags,
      summary: 'Agent output; `after` is the `next` cursor of the previous page; `follow=1` streams SSE',
      params: idParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          after: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          limit: { type: 'integer', minimum: 1, maximum: 10_000 },
          follow: { type: 'string', enum: ['1', '0', 'true', 'false'] },
        },
      },
      response: {
        200: { type: 'object', properties: { lines: { type: 'array', items: { type: 'string' } }, next: { type: 'integer' }, ended: { type: 'boolean' } } },
        ...commonErrors,
      },
    },
  }, async (request, reply) => {
    const { id } = request.params;
    const limit = request.query.limit ?? 1000;
    let cursor = request.query.after ?? 0;
    const first = await agents.logs(id, cursor, limit); // 404 before the stream opens
    const follow = request.query.follow === '1' || request.query.follow === 'true';
    if (!follow) return first;

    const stream = openSse(request, reply, opts.sse);
    // A read that waits for the next line ends when the follower goes away.
    const gone = new AbortController();
    stream.onClose(() => gone.abort());
    let page = first;
    while (!stream.closed) {
      // The next page is read only once the client has taken this one (or it is dropped for not reading).
      if (page.lines.length > 0 && !(stream.send({ id: page.next, event: 'lines', data: { lines: page.lines, next: page.next } }) && await stream.drained())) break;
      cursor = page.next;
      if (page.lines.length === 0 && page.ended) {
        stream.send({ event: 'end', data: { next: cursor } });
        stream.close();
        break;
      }
      try {
        // Long polling: one read in flight per follower, waiting for new lines (for a remote agent, on its peer).
        page = await agents.logs(id, cursor, limit, page.lines.length === 0 ? { waitMs: LOG_FOLLOW_WAIT_MS, signal: gone.signal } : {});
      } catch (err) {
        stream.send({ event: 'error', data: { message: err instanceof Error ? err.message : String(err) } });
        stream.close();
      }
    }
    return reply;
  });
}
