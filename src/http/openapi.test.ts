import { validate, compileErrors } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { operationIdFor } from './openapi.js';

type Operation = { operationId?: string; security?: unknown[]; responses: Record<string, unknown> };
type Doc = { openapi: string; servers?: unknown[]; paths: Record<string, Record<string, Operation>> };

/** Issue 9 point 4: the served document is valid OpenAPI, complete for client generators, and true about auth. */
describe('OpenAPI document', () => {
  let t: TestInstance;
  let doc: Doc;
  beforeAll(async () => {
    t = await startTestInstance();
    doc = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as Doc;
  });
  afterAll(async () => t?.stop());

  const operations = () => Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })));

  it('is valid OpenAPI 3.1 for @readme/openapi-parser (zero errors)', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    // The validator does find faults: the same document with a duplicated operationId, or a server without url, is refused.
    const duplicate = structuredClone(doc);
    duplicate.paths['/api/v1/health']!.get!.operationId = doc.paths['/api/v1/agents']!.get!.operationId;
    expect((await validate(duplicate as never)).valid).toBe(false);
    expect((await validate({ ...structuredClone(doc), servers: [{ description: 'no url' }] } as never)).valid).toBe(false);
  });

  it('has servers, an operationId on every operation and the error statuses routes give', () => {
    expect(doc.servers?.length).toBeGreaterThan(0);
    const ops = operations();
    expect(ops.length).toBeGreaterThan(25);
    const ids = ops.map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of ops) {
      const statuses = Object.keys(op.responses);
      expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['400', '404', '429', '500']));
      if (method !== 'GET') expect(statuses, `${method} ${path}`).toContain('409');
      if (method === 'POST' || method === 'PATCH') expect(statuses, `${method} ${path}`).toContain('413');
      if (op.security === undefined) expect(statuses, `${method} ${path}`).toContain('401');
    }
    expect(operationIdFor('GET', '/api/v1/agents/:id/logs')).toBe('getAgentsByIdLogs');
  });

  it('marks exactly the public routes public: admin operations answer 401 without a token, public reads do not', async () => {
    const publicPaths = operations().filter(({ op }) => Array.isArray(op.security) && op.security.length === 0).map(({ method, path }) => `${method} ${path}`);
    expect(publicPaths).toEqual(expect.arrayContaining(['GET /api/v1/health', 'GET /api/v1/federation/instance', 'POST /api/v1/federation/incoming/{kind}']));
    for (const { path, method, op } of operations()) {
      const url = `${t.url}${path.replace(/\{[^}]+\}/g, 'x')}`;
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      if (!isPublic) {
        const res = await fetch(url, { method, ...(method === 'GET' || method === 'DELETE' ? {} : { headers: { 'content-type': 'application/json' }, body: '{}' }) });
        expect(res.status, `${method} ${path}`).toBe(401);
        await res.body?.cancel();
      } else if (method === 'GET' && !path.includes('{')) {
        const res = await fetch(url);
        expect(res.status, `${method} ${path}`).not.toBe(401);
        await res.body?.cancel();
      }
    }
  });
});
