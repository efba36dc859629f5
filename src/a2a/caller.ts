import type { User } from '@a2a-js/sdk/server';
import type { A2aTokenRecord } from './tokens/store.js';

/**
 * Who is calling `/a2a`: the admin (admin token), or an A2A client token with
 * its grants. Carried through the SDK's ServerCallContext as its `User`.
 */
export class A2aCaller implements User {
  constructor(readonly token: A2aTokenRecord | null) {}

  get isAuthenticated(): boolean {
    return true;
  }

  get userName(): string {
    return this.token ? `a2a:${this.token.id}` : 'admin';
  }

  /** The `origin` of the agents this caller spawns: `a2a:<tokenId>` (never local: sandboxed like a peer's), or `local` for the admin. */
  get origin(): string {
    return this.token ? `a2a:${this.token.id}` : 'local';
  }

  /** Whether this caller may see and cancel an agent: the admin any, a token only its own. */
  owns(agent: { origin: string }): boolean {
    return this.token === null || agent.origin === this.origin;
  }
}

/** `a2a:<tokenId>`: the origin of an agent an A2A client token spawned. */
export const isA2aOrigin = (origin: string): boolean => origin.startsWith('a2a:');
