import { describe, expect, it } from 'vitest';
import { MosaicError } from '../../core/errors.js';
import { fitDiff, fitLogPage } from './commands.js';
import { MAX_RESULT_BYTES } from './limits.js';
import { parseSpawnArgs } from './spawn-args.js';

function codeOf(fn: () => unknown): { code: string; field: unknown } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MosaicError);
    return { code: (err as MosaicError).code, field: (err as MosaicError).details?.field };
  }
  throw new Error('expected a rejection');
}

describe('parseSpawnArgs', () => {
  const base = { taskId: 'T1', repo: 'web', prompt: 'p' };

  it('accepts what the HTTP API accepts', () => {
    const full = { ...base, type: 'tester', baseBranch: 'main', runtime: { kind: 'claude', model: 'sonnet', maxTurns: 3, permissionMode: 'plan' },
      priority: 7, timeoutS: 60, env: { FOO: 'bar' }, idempotencyKey: 'k' };
    expect(parseSpawnArgs(full)).toEqual(full);
    expect(parseSpawnArgs({ ...base, runtime: { kind: 'command', argv: ['sh', '-c', 'true'] } }).runtime).toEqual({ kind: 'command', argv: ['sh', '-c', 'true'] });
  });

  it('refuses peer, unknown fields and bad values, naming the field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, peer: 'x' }, 'args.peer'],
      [{ ...base, extra: 1 }, 'args.extra'],
      [{ repo: 'web', prompt: 'p' }, 'args.taskId'],
      [{ ...base, prompt: '' }, 'args.prompt'],
      [{ ...base, type: 'boss' }, 'args.type'],
      [{ ...base, priority: 11 }, 'args.priority'],
      [{ ...base, runtime: { kind: 'shell' } }, 'args.runtime.kind'],
      [{ ...base, runtime: { kind: 'command', argv: [] } }, 'args.runtime.argv'],
      [{ ...base, runtime: { kind: 'claude', argv: ['x'] } }, 'args.runtime.argv'],
      [{ ...base, env: { 'BAD-KEY': 'x' } }, 'args.env.BAD-KEY'],
      [{ ...base, env: { K: 1 } }, 'args.env.K'],
    ];
    for (const [args, field] of cases) expect(codeOf(() => parseSpawnArgs(args))).toEqual({ code: 'invalid_args', field });
  });
});

describe('answers that fit in one message', () => {
  it('keeps small log pages and diffs as they are', () => {
    const page = { lines: ['a', 'b'], next: 4, ended: true };
    expect(fitLogPage(page, 0)).toBe(page);
    expect(fitDiff('+x')).toEqual({ diff: '+x' });
  });

  it('cuts a large log page at a line boundary and resumes from the first line left out', () => {
    const line = 'x'.repeat(100_000);
    const page = { lines: Array.from({ length: 12 }, () => line), next: 12 * 100_001, ended: true };
    const fitted = fitLogPage(page, 50);
    expect(fitted.lines.length).toBe(7);
    expect(fitted.next).toBe(50 + 7 * 100_001);
    expect(fitted.ended).toBe(false);
    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    const huge = fitLogPage({ lines: ['y'.repeat(MAX_RESULT_BYTES * 2)], next: MAX_RESULT_BYTES * 2 + 1, ended: false }, 0);
    expect(huge.lines[0]).toMatch(/\[truncated\]$/);
    expect(huge.next).toBe(MAX_RESULT_BYTES * 2 + 1);
  });

  it('truncates a diff too large for one message, and says so', () => {
    const fitted = fitDiff('"'.repeat(MAX_RESULT_BYTES));
    expect(fitted.truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(fitted.diff))).toBeLessThanOrEqual(MAX_RESULT_BYTES);
  });
});
