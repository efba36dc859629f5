import { STATE_SYMBOL } from '../format';
import type { AgentState } from '../types';

/** A state as symbol + word + colour: readable without colour, and by screen readers as the word. */
export function StateBadge({ state }: { state: AgentState }) {
  return (
    <span class={`state state-${state}`}>
      <span aria-hidden="true">{STATE_SYMBOL[state]}</span> {state}
    </span>
  );
}
