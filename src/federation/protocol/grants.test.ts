import { describe, expect, it } from 'vitest';
import { MosaicError } from '../../core/errors.js';
import { checkBaseBranch, checkGrant, defaultGrants, validateGrants, type Grants } from './grants.js';

function rejection(fn: () => unknown): { status: number; code: string; field?: unknown } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MosaicError);
    const e = err as MosaicError;
    return { status: e.status, code: e.code, field: e.details?.field };
  }
  throw new Error('expected a rejection');
}

const full: Grants = { commands: ['agent.spawn', 'agent.list'], repos: ['app'], runtimes: ['claude'], maxActiveAgents: 2 };

describe('validateGrants', () => {
  it('accepts a complete grants object and normalises duplicates and *', () => {
    expect(validateGrants(full)).toEqual(full);
    expect(validateGrants({ ...full, commands: ['agent.list', 'agent.list'], repos: ['app', '*'] })).toEqual({ ...full, commands: ['agent.list'], repos: ['*'] });
  });

  it('fills missing fields from base, and requires them without one', () => {
    expect(validateGrants({ repos: ['app'], maxActiveAgents: 3 }, defaultGrants())).toEqual({ ...defaultGrants(), repos: ['app'], maxActiveAgents: 3 });
    expect(rejection(() => validateGrants({ repos: ['app'] }))).toEqual({ status: 400, code: 'invalid_grants', field: 'grants.commands' });
  });

  it('rejects bad values naming the field', () => {
    const cases: Array<[unknown, string]> = [
      [{ ...full, commands: ['agent.exec'] }, 'grants.commands'],
      [{ ...full, commands: 'agent.list' }, 'grants.commands'],
      [{ ...full, repos: ['../etc'] }, 'grants.repos'],
      [{ ...full, repos: ['-rf'] }, 'grants.repos'],
      [{ ...full, runtimes: ['shell'] }, 'grants.runtimes'],
      [{ ...full, maxActiveAgents: 1.5 }, 'grants.maxActiveAgents'],
      [{ ...full, maxActiveAgents: -1 }, 'grants.maxActiveAgents'],
      [{ ...full, maxActiveAgents: 1001 }, 'grants.maxActiveAgents'],
      [{ ...full, admin: true }, 'grants.admin'],
      [[], 'grants'],
      [null, 'grants'],
    ];
    for (const [input, field] of cases) {
      expect({ input, ...rejection(() => validateGrants(input)) }).toEqual({ input, status: 400, code: 'invalid_grants', field });
    }
  });
});

describe('defaultGrants', () => {
  it('lists every command but lets nothing run: no repos, claude only, 0 agents', () => {
    const g = defaultGrants();
    expect(g).toEqual({ commands: ['agent.spawn', 'agent.status', 'agent.kill', 'agent.list', 'agent.logs', 'agent.diff', 'agent.bundle'], repos: [], runtimes: ['claude'], maxActiveAgents: 0 });
    expect(() => checkGrant(g, { command: 'agent.list' })).not.toThrow();
    expect(rejection(() => checkGrant(g, { command: 'agent.spawn', repo: 'app', runtime: 'claude', activeAgents: 0 })).code).toBe('repo_not_granted');
    expect(rejection(() => checkGrant({ ...g, repos: ['*'] }, { command: 'agent.spawn', repo: 'app', runtime: 'claude', activeAgents: 0 })).code).toBe('max_agents_exceeded');
    g.repos.push('mutated');
    expect(defaultGrants().repos).toEqual([]);
  });
});

describe('checkGrant', () => {
  const spawn = { command: 'agent.spawn', repo: 'app', runtime: 'claude', activeAgents: 1 };

  it('allows what is granted', () => {
    expect(() => checkGrant(full, spawn)).not.toThrow();
    expect(() => checkGrant({ ...full, repos: ['*'] }, { ...spawn, repo: 'anything' })).not.toThrow();
  });

  it('refuses each missing grant with its own code', () => {
    expect(rejection(() => checkGrant(full, { command: 'agent.kill' }))).toEqual({ status: 403, code: 'command_not_granted', field: undefined });
    expect(rejection(() => checkGrant(full, { ...spawn, repo: 'other' }))).toEqual({ status: 403, code: 'repo_not_granted', field: undefined });
    expect(rejection(() => checkGrant(full, { ...spawn, runtime: 'command' }))).toEqual({ status: 403, code: 'runtime_not_granted', field: undefined });
    expect(rejection(() => checkGrant(full, { ...spawn, activeAgents: 2 }))).toEqual({ status: 429, code: 'max_agents_exceeded', field: undefined });
  });

  it('treats a spawn check without its facts as a programming error', () => {
    expect(() => checkGrant(full, { command: 'agent.spawn', repo: 'app' })).toThrow(TypeError);
  });
});

describe('projectConfig and baseBranches grants', () => {
  it('keeps them when given, refuses bad values and agent branches', () => {
    expect(validateGrants({ ...full, projectConfig: true, baseBranches: ['dev', 'release/2', 'dev'] }))
      .toEqual({ ...full, projectConfig: true, baseBranches: ['dev', 'release/2'] });
    expect(validateGrants({ projectConfig: false }, { ...full, baseBranches: ['dev'] })).toEqual({ ...full, projectConfig: false, baseBranches: ['dev'] });
    for (const [value, field] of [
      [{ projectConfig: 'yes' }, 'grants.projectConfig'],
      [{ baseBranches: 'dev' }, 'grants.baseBranches'],
      [{ baseBranches: ['agent-abc-task'] }, 'grants.baseBranches'],
      [{ baseBranches: ['-x'] }, 'grants.baseBranches'],
      [{ baseBranches: ['main~1'] }, 'grants.baseBranches'],
    ] as const) {
      expect(rejection(() => validateGrants({ ...full, ...value }))).toEqual({ status: 400, code: 'invalid_grants', field });
    }
  });

  it('checkBaseBranch: the repository base or a granted branch, nothing else', () => {
    const grants: Grants = { ...full, baseBranches: ['dev'] };
    expect(() => checkBaseBranch(grants, undefined, 'main')).not.toThrow();
    expect(() => checkBaseBranch(grants, 'main', 'main')).not.toThrow();
    expect(() => checkBaseBranch(grants, 'dev', 'main')).not.toThrow();
    for (const base of ['agent-abc-task', 'refs/heads/main', 'main~1', 'release', 'HEAD']) {
      expect(rejection(() => checkBaseBranch(grants, base, 'main'))).toEqual({ status: 400, code: 'base_branch_not_granted', field: 'baseBranch' });
    }
    expect(rejection(() => checkBaseBranch(full, 'dev', 'main')).code).toBe('base_branch_not_granted');
  });
});
