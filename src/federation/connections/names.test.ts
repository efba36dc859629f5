import { describe, expect, it } from 'vitest';
import { isValidName } from '../../core/ids.js';
import { sanitizeName } from './names.js';

describe('sanitizeName', () => {
  it('turns whatever a peer calls itself into a valid connection name', () => {
    expect(sanitizeName('spoke')).toBe('spoke');
    expect(sanitizeName('My Laptop (home)')).toBe('My-Laptop-home');
    expect(sanitizeName('..//etc')).toBe('etc');
    expect(sanitizeName('---')).toBe('peer');
    for (const raw of ['a..b', '-x', 'ü'.repeat(80), 'x'.repeat(200)]) expect(isValidName(sanitizeName(raw))).toBe(true);
  });
});
