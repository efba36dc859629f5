import { describe, expect, it } from 'vitest';
import { publicAgent } from '../../agents/index.js';
import { makeAgent } from '../../test-support/store-records.js';
import { parseRemoteAgent } from './agent-shape.js';

describe('parseRemoteAgent', () => {
  it('keeps a real agent record as it is, but for its cluster node', () => {
    const agent = publicAgent(makeAgent({ origin: 'hub', state: 'failed', error: { code: 'exit_nonzero', message: 'exit 1' }, exitCode: 1 }));
    // Except which cluster node ran it: that names the peer's own machines, never one of this side's.
    const { node: _node, retryOnNodeLost: _retry, ...expected } = agent;
    expect(parseRemoteAgent(JSON.parse(JSON.stringify(agent)))).toEqual(expected);
  });

  it('drops fields the receiving instance sets itself, and refuses malformed ones', () => {
    const agent = { ...publicAgent(makeAgent()), instance: 'forged', peer: 'forged', env: { SECRET: 'x' } };
    const parsed = parseRemoteAgent(agent);
    expect(parsed).not.toHaveProperty('instance');
    expect(parsed).not.toHaveProperty('peer');
    expect(parsed).not.toHaveProperty('env');
    for (const [field, value] of [['id', '../x'], ['state', 'exploded'], ['pid', 'nine'], ['createdAt', null], ['runtime', { kind: 'other' }]] as const) {
      expect(() => parseRemoteAgent({ ...agent, [field]: value })).toThrow(expect.objectContaining({ code: 'invalid_agent' }));
    }
  });
});
