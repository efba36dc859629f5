import type { FastifyInstance } from 'fastify';
import type { RepoEdit, RepoInput, RepoService } from '../../repos/index.js';
import { commonErrors, nameParams, repoBody, repoPatchBody, repoSchema } from '../schemas.js';

export async function repoRoutes(app: FastifyInstance, opts: { repos: RepoService }): Promise<void> {
  const { repos } = opts;
  const tags = ['repos'];

  app.post<{ Body: RepoInput }>('/repos', {
    schema: { tags, summary: 'Register a repository', body: repoBody, response: { 201: repoSchema, ...commonErrors } },
  }, async (request, reply) => reply.status(201).send(await repos.add(request.body)));

  app.get('/repos', {
    schema: { tags, summary: 'List repositories', response: { 200: { type: 'object', properties: { repos: { type: 'array', items: repoSchema } } } } },
  }, async () => ({ repos: await repos.list() }));

  app.get<{ Params: { name: string } }>('/repos/:name', {
    schema: { tags, summary: 'One repository', params: nameParams, response: { 200: repoSchema, ...commonErrors } },
  }, async (request) => repos.get(request.params.name));

  app.patch<{ Params: { name: string }; Body: RepoEdit }>('/repos/:name', {
    schema: {
      tags,
      summary: 'Edit a repository (setup, copyFiles, baseBranch); applies to agents spawned afterwards',
      params: nameParams,
      body: repoPatchBody,
      response: { 200: repoSchema, ...commonErrors },
    },
  }, async (request) => repos.update(request.params.name, request.body));

  app.delete<{ Params: { name: string } }>('/repos/:name', {
    schema: { tags, summary: 'Unregister a repository (its files are untouched)', params: nameParams, response: { 204: { type: 'null', description: 'unregistered' }, ...commonErrors } },
  }, async (request, reply) => {
    await repos.remove(request.params.name);
    return reply.status(204).send();
  });
}
