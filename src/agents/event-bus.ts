import { EventEmitter } from 'node:events';
import type { AgentEvent } from './types.js';

/**
 * In-process fan-out of events that are already in the store. Subscribers
 * (SSE streams, the federation outbox) get them in seq order; anything they
 * miss while disconnected they read back from the store by seq.
 */
export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per open SSE stream: many are normal, not a leak.
    this.emitter.setMaxListeners(0);
  }

  publish(event: AgentEvent): void {
    this.emitter.emit('event', event);
  }

  subscribe(listener: (event: AgentEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
