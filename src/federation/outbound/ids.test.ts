import { describe, expect, it } from 'vitest';
import { UUID_RE } from '../protocol/index.js';
import { deterministicUuid } from './ids.js';

describe('deterministicUuid', () => {
  it('is a canonical lowercase UUID, the same for the same parts and different otherwise', () => {
    const id = deterministicUuid('mosaic-event', 'spoke', 'hub', '42');
    expect(id).toMatch(UUID_RE);
    expect(id[14]).toBe('5');
    expect(deterministicUuid('mosaic-event', 'spoke', 'hub', '42')).toBe(id);
    expect(deterministicUuid('mosaic-event', 'spoke', 'hub', '43')).not.toBe(id);
    // Parts are separated, so shifting characters between them changes the id.
    expect(deterministicUuid('ab', 'c')).not.toBe(deterministicUuid('a', 'bc'));
  });
});
