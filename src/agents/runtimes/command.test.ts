import { describe, expect, it } from 'vitest';
import { MosaicError } from '../../core/errors.js';
import type { CommandRuntime } from '../types.js';
import { commandInvocation } from './command.js';

const bad = (argv: unknown): MosaicError => {
  try {
    commandInvocation({ kind: 'command', argv } as CommandRuntime);
  } catch (err) {
    return err as MosaicError;
  }
  throw new Error('expected an error');
};

describe('commandInvocation', () => {
  it('returns a copy of the argv, untouched (no shell, no splitting)', () => {
    const argv = ['node', '-e', 'console.log("a b; rm -rf /")', '--', '$HOME'];
    const inv = commandInvocation({ kind: 'command', argv });
    expect(inv.argv).toEqual(argv);
    expect(inv.argv).not.toBe(argv);
  });

  it('rejects empty, non-string, NUL-carrying and empty-program argv with a 400 naming the element', () => {
    expect(bad([])).toMatchObject({ status: 400, code: 'invalid_runtime' });
    expect(bad('ls -la')).toMatchObject({ code: 'invalid_runtime' });
    expect(bad(['ls', 3]).message).toContain('runtime.argv[1]');
    expect(bad(['ls', 'a\0b']).message).toContain('runtime.argv[1]');
    expect(bad(['', 'x']).message).toContain('runtime.argv[0]');
  });
});
