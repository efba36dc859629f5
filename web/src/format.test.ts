import { describe, expect, it } from 'vitest';
import { timingRows } from './format';

describe('timingRows', () => {
  it('lists the recorded phases in order with their share of the total, and nothing without timings', () => {
    expect(timingRows(null)).toEqual([]);
    expect(timingRows(undefined)).toEqual([]);
    const rows = timingRows({ run: 600, queued: 100, launch: 300, setup: 0 });
    expect(rows.map((r) => r.phase)).toEqual(['queued', 'setup', 'launch', 'run']);
    expect(rows.map((r) => r.share)).toEqual([10, 0, 30, 60]);
  });
});
