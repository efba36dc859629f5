import { describe, expect, it } from 'vitest';
import { canTransition, isTerminal, sourcesOf } from './lifecycle.js';
import { AGENT_STATES } from './types.js';

describe('lifecycle', () => {
  it('allows exactly the designed transitions', () => {
    const allowed = AGENT_STATES.flatMap((from) => AGENT_STATES.filter((to) => canTransition(from, to)).map((to) => `${from}>${to}`));
    expect(allowed.sort()).toEqual([
      'queued>killed', 'queued>spawning',
      'running>completed', 'running>failed', 'running>killed',
      'spawning>failed', 'spawning>killed', 'spawning>queued', 'spawning>running',
    ]);
  });

  it('never leaves a terminal state', () => {
    for (const state of ['completed', 'failed', 'killed'] as const) {
      expect(isTerminal(state)).toBe(true);
      for (const to of AGENT_STATES) expect(canTransition(state, to)).toBe(false);
    }
    expect(isTerminal('running')).toBe(false);
  });

  it('lists the sources of a state', () => {
    expect(sourcesOf('killed').sort()).toEqual(['queued', 'running', 'spawning']);
    expect(sourcesOf('running')).toEqual(['spawning']);
  });
});
