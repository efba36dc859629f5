import { describe, expect, it } from 'vitest';
import { cutText, fitResult, lastLinesWithin, MAX_TOOL_RESULT_BYTES } from './bounds.js';

const size = (r: { structured: unknown; text: string }) => Buffer.byteLength(r.text) + Buffer.byteLength(JSON.stringify(r.structured));

describe('fitResult', () => {
  it('leaves a result that fits alone', () => {
    const r = { structured: { a: 'x' }, text: 'ok' };
    expect(fitResult(r.structured, r.text)).toEqual(r);
  });

  it('cuts long strings, then long lists, and always ends under the budget with a note', () => {
    const manyAgents = { agents: Array.from({ length: 5000 }, (_, i) => ({ id: `a${i}`, prompt: 'x'.repeat(300) })) };
    const longText = { agent: { prompt: 'é'.repeat(200_000) } };
    for (const [structured, text] of [[manyAgents, 'list'], [longText, 'y'.repeat(300_000)]] as const) {
      const fitted = fitResult(structured as Record<string, unknown>, text);
      expect(size(fitted)).toBeLessThanOrEqual(MAX_TOOL_RESULT_BYTES);
      expect(fitted.structured.truncated).toBe(true);
      expect(fitted.text).toContain('Result cut to fit 100 KB');
    }
  });

  it('cuts text on a character boundary and keeps the last lines that fit', () => {
    const cut = cutText('ééééé', 7, '…');
    expect(cut).toBe('éé…');
    expect(lastLinesWithin(['aaa', 'bbb', 'ccc'], 8)).toEqual({ lines: ['bbb', 'ccc'], dropped: 1 });
  });
});
