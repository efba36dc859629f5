import { describe, expect, it } from 'vitest';
import { defaultGrants } from './grants.js';
import { parseConnectBody, parseEventBody } from './bodies.js';

const key = Buffer.alloc(32, 7).toString('base64');

describe('body extensions', () => {
  it('EVENT may carry the sender\'s event seq, a positive integer', () => {
    expect(parseEventBody({ event: 'agent.state', agent: {}, seq: 3 })).toEqual({ event: 'agent.state', agent: {}, seq: 3 });
    expect(parseEventBody({ event: 'agent.progress', agent: {} })).toEqual({ event: 'agent.progress', agent: {} });
    for (const seq of [0, -1, 1.5, '3']) {
      expect(() => parseEventBody({ event: 'agent.state', agent: {}, seq })).toThrow(expect.objectContaining({ code: 'invalid_body' }));
    }
  });

  it('CONNECT may carry the grants the sender gives the receiver', () => {
    const body = { name: 'hub', url: 'http://h:1', publicKey: key, protocolVersion: '1' };
    expect(parseConnectBody({ ...body, grants: defaultGrants() }).grants).toEqual(defaultGrants());
    expect(() => parseConnectBody({ ...body, grants: { commands: ['nope'] } })).toThrow(expect.objectContaining({ code: 'invalid_body' }));
  });
});
