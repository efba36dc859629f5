import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtInPrices, instancePrices, priceOf, pricesWith, runCost, usageCost } from './pricing.js';

const usage = { inputTokens: 1_000_000, outputTokens: 200_000, cachedInputTokens: 400_000, reasoningTokens: 50_000 };

describe('pricing', () => {
  it('uses the reported cost when the runtime reports one', () => {
    expect(runCost({ kind: 'claude' }, { usage, reportedCostUsd: 0.42 }, builtInPrices())).toEqual({ costUsd: 0.42, costEstimated: false });
  });

  it('estimates from tokens: cached input at the cached price, reasoning inside output', () => {
    const price = { inputUsdPerMTok: 2, cachedInputUsdPerMTok: 0.2, outputUsdPerMTok: 10 };
    // 600k fresh × 2 + 400k cached × 0.2 + 200k out × 10, per million.
    expect(usageCost(usage, price)).toBeCloseTo(1.2 + 0.08 + 2, 6);
    expect(runCost({ kind: 'claude', model: 'claude-sonnet-4-5' }, { usage }, builtInPrices())).toMatchObject({ costEstimated: true });
  });

  it('takes the spec model, else the stream model, else the runtime default', () => {
    const table = builtInPrices();
    const sol = usageCost(usage, table.models['gpt-6-sol']!);
    const luna = usageCost(usage, table.models['gpt-6-luna']!);
    expect(runCost({ kind: 'claude', model: 'gpt-6-luna' }, { usage, model: 'gpt-6-sol' }, table).costUsd).toBe(luna);
    expect(runCost({ kind: 'claude' }, { usage, model: 'gpt-6-sol' }, table).costUsd).toBe(sol);
    table.defaults.claude = 'gpt-6-luna';
    expect(runCost({ kind: 'claude' }, { usage }, table).costUsd).toBe(luna);
  });

  it('is null with a note for an unknown model or no usage, never a made-up number', () => {
    expect(runCost({ kind: 'claude', model: 'mystery-9' }, { usage }, builtInPrices())).toEqual({
      costUsd: null, costEstimated: false, costNote: expect.stringContaining('no price for model mystery-9'),
    });
    expect(runCost({ kind: 'claude' }, { usage }, builtInPrices())).toMatchObject({ costUsd: null, costNote: expect.stringContaining('model is unknown') });
    expect(runCost({ kind: 'claude', model: 'gpt-6-sol' }, {}, builtInPrices())).toMatchObject({ costUsd: null });
  });

  it('matches provider prefixes, dates and context markers but never another model by prefix', () => {
    const table = builtInPrices();
    expect(priceOf(table, 'openai/gpt-6-sol')).toBe(table.models['gpt-6-sol']);
    expect(priceOf(table, 'claude-sonnet-4-5-20250929')).toBe(table.models['claude-sonnet-4-5']);
    expect(priceOf(table, 'claude-sonnet-4-5[1m]')).toBe(table.models['claude-sonnet-4-5']);
    expect(priceOf(table, 'models/gemini-2.5-pro')).toBe(table.models['gemini-2.5-pro']);
    expect(priceOf(table, 'gpt-6')).toBeUndefined();
    expect(priceOf(table, 'gpt-6-sol-mini')).toBeUndefined();
  });

  it('$MOSAIC_HOME/prices.json overrides and extends; a bad file is ignored with a note', () => {
    const home = mkdtempSync(join(tmpdir(), 'mosaic-prices-'));
    const path = join(home, 'prices.json');
    writeFileSync(path, JSON.stringify({ models: { 'house-model': { inputUsdPerMTok: 1, outputUsdPerMTok: 2 }, 'gpt-6-sol': { inputUsdPerMTok: 0, outputUsdPerMTok: 0, cachedInputUsdPerMTok: 0 } }, defaults: { codex: 'house-model' } }));
    const table = instancePrices(home);
    expect(table.models['house-model']).toEqual({ inputUsdPerMTok: 1, outputUsdPerMTok: 2, cachedInputUsdPerMTok: 1 });
    expect(table.models['gpt-6-sol']!.inputUsdPerMTok).toBe(0);
    expect(table.models['gemini-2.5-pro']).toBeDefined();
    expect(table.defaults.codex).toBe('house-model');

    writeFileSync(path, JSON.stringify({ models: { x: { inputUsdPerMTok: 'cheap' } } }));
    const bad = pricesWith(path);
    expect(bad.overrideError).toContain('ignored');
    expect(bad.models.x).toBeUndefined();
    expect(runCost({ kind: 'claude', model: 'x' }, { usage }, bad).costNote).toContain('ignored');
  });
});
