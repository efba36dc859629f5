import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GRANTS, grantsFromOptions, grantsWithDefaults, parseCommands, parseRepos, parseRuntimes } from './commands/peer-grants.js';
import { formatGrants, grantWarnings, shortId } from './peer-format.js';

describe('grant options', () => {
  it('parses commands with or without the agent. prefix, and all', () => {
    expect(parseCommands('spawn, agent.status,spawn')).toEqual(['agent.spawn', 'agent.status']);
    expect(parseCommands('all')).toEqual(DEFAULT_GRANTS.commands);
    expect(() => parseCommands('spawn,fly')).toThrow(InvalidArgumentError);
  });

  it("parses repositories, '*' winning over names, and refuses bad names", () => {
    expect(parseRepos('web,api')).toEqual(['web', 'api']);
    expect(parseRepos('web,*')).toEqual(['*']);
    expect(() => parseRepos('../etc')).toThrow(/not a repository name/);
    expect(() => parseRuntimes('claude,docker')).toThrow(/unknown runtime docker/);
  });

  it('fills defaults for invite and accept, and only the given fields for grant', () => {
    expect(grantsWithDefaults({ repos: ['web'] })).toEqual({ ...DEFAULT_GRANTS, repos: ['web'] });
    expect(DEFAULT_GRANTS).toMatchObject({ repos: [], runtimes: ['claude'], maxActiveAgents: 1 });
    expect(grantsFromOptions({ repos: false, maxAgents: 0 })).toEqual({ repos: [], maxActiveAgents: 0 });
  });
});

describe('peer formatting', () => {
  it('shows grants on one line and warns about grants that run nothing or anything', () => {
    expect(formatGrants({ ...DEFAULT_GRANTS, repos: ['web'], runtimes: ['claude', 'command'], maxActiveAgents: 3 }))
      .toBe('cmds=all repos=web runtimes=claude,command max=3 shell=no net=host');
    expect(formatGrants({ commands: ['agent.spawn', 'agent.kill'], repos: [], runtimes: [], maxActiveAgents: 0 }))
      .toBe('cmds=spawn,kill repos=none runtimes=none max=0 shell=no net=host');
    expect(formatGrants(null)).toBe('-');
    expect(grantWarnings(DEFAULT_GRANTS)).toEqual([expect.stringContaining('no repositories granted')]);
    expect(grantWarnings({ ...DEFAULT_GRANTS, repos: ['*'], runtimes: ['command'], maxActiveAgents: 0 })).toEqual([
      expect.stringContaining('max-agents is 0'),
      expect.stringContaining('command runtime is granted'),
    ]);
    expect(shortId('abcdefghijklmnopqrstuvwxyz234567')).toBe('abcdefgh…');
  });
});
