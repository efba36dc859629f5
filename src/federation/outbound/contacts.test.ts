import { describe, expect, it } from 'vitest';
import { PeerContacts } from './contacts.js';

describe('PeerContacts', () => {
  it('is fresh after contact, stale when unreachable or silent too long, and fresh again once heard', () => {
    let now = 1_000_000;
    const contacts = new PeerContacts(() => now);
    expect(contacts.isStale('p', 120_000)).toBe(false); // nothing known yet, just started
    now += 121_000;
    expect(contacts.isStale('p', 120_000)).toBe(true); // silent since this server started
    contacts.heard('p');
    expect(contacts.get('p')).toEqual({ lastContactAt: now, unreachableSince: null, error: null });
    expect(contacts.isStale('p', 120_000)).toBe(false);
    const failedAt = now + 1000;
    now = failedAt;
    contacts.failed('p', 'connect ECONNREFUSED');
    now += 5000;
    contacts.failed('p', 'timeout');
    expect(contacts.get('p')).toMatchObject({ unreachableSince: failedAt, error: 'timeout' }); // since the first failure
    expect(contacts.isStale('p', 120_000)).toBe(true);
    contacts.heard('p');
    expect(contacts.isStale('p', 120_000)).toBe(false);
    now += 120_001;
    expect(contacts.isStale('p', 120_000)).toBe(true);
  });
});
