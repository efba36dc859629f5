import { describe, expect, it } from 'vitest';
import { KeyedRwLock } from './mutex.js';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

/** A task that records when it starts and ends, and finishes when told. */
function gate(log: string[], name: string): { task: () => Promise<string>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => { open = r; });
  return { task: async () => { log.push(`+${name}`); await opened; log.push(`-${name}`); return name; }, open };
}

describe('KeyedRwLock', () => {
  it('runs shared tasks of a key together, up to maxShared', async () => {
    const lock = new KeyedRwLock(2);
    const log: string[] = [];
    const [a, b, c] = [gate(log, 'a'), gate(log, 'b'), gate(log, 'c')];
    const done = [lock.shared('k', a.task), lock.shared('k', b.task), lock.shared('k', c.task)];
    await tick();
    expect(log).toEqual(['+a', '+b']);
    a.open();
    await tick();
    expect(log).toEqual(['+a', '+b', '-a', '+c']);
    b.open();
    c.open();
    expect(await Promise.all(done)).toEqual(['a', 'b', 'c']);
  });

  it('an exclusive task waits for the shared ones before it and holds back those after it', async () => {
    const lock = new KeyedRwLock();
    const log: string[] = [];
    const [a, x, b] = [gate(log, 'a'), gate(log, 'x'), gate(log, 'b')];
    const done = [lock.shared('k', a.task), lock.exclusive('k', x.task), lock.shared('k', b.task)];
    await tick();
    expect(log).toEqual(['+a']);
    a.open();
    await tick();
    expect(log).toEqual(['+a', '-a', '+x']);
    x.open();
    await tick();
    expect(log).toEqual(['+a', '-a', '+x', '-x', '+b']);
    b.open();
    await Promise.all(done);
  });

  it('keys are independent, and a failing task releases its hold', async () => {
    const lock = new KeyedRwLock();
    const log: string[] = [];
    const x = gate(log, 'x');
    const held = lock.exclusive('one', x.task);
    expect(await lock.exclusive('two', async () => 'other key')).toBe('other key');
    const failing = lock.shared('one', async () => { throw new Error('boom'); }).catch((e: Error) => e.message);
    x.open();
    await held;
    expect(await failing).toBe('boom');
    expect(await lock.exclusive('one', async () => 'after')).toBe('after');
  });
});
