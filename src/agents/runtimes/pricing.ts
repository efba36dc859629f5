/**
 * What a run cost, in one shape for every runtime: the runtime's own figure
 * when it reports one (claude, opencode), else tokens × the price table
 * (`costEstimated: true`), else null with a note — never a made-up number.
 *
 * The table is prices.json beside this module, overridden model by model
 * (and default by default) by `$MOSAIC_HOME/prices.json` in the same shape:
 * `{"models": {"<model>": {"inputUsdPerMTok": n, "outputUsdPerMTok": n,
 * "cachedInputUsdPerMTok": n}}, "defaults": {"<runtime>": "<model>"}}`.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeSpec, TokenUsage } from '../types.js';
import builtIn from './prices.json' with { type: 'json' };
import type { RunSummary } from './runtime.js';
import { isObject } from './stream-util.js';

export interface ModelPrice {
  inputUsdPerMTok: number;
  outputUsdPerMTok: number;
  /** Cached input; the input price when a vendor has no cache discount. */
  cachedInputUsdPerMTok: number;
}

export interface PriceTable {
  models: Record<string, ModelPrice>;
  /** The model a runtime runs when neither the spec nor its stream names one. */
  defaults: Record<string, string>;
  /** Why the override file was not used, when it exists but is not valid. */
  overrideError?: string;
}

export interface RunCost {
  costUsd: number | null;
  costEstimated: boolean;
  costNote?: string;
}

const MAX_PRICE = 1_000_000;

function validPrice(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_PRICE;
}

/** Reads a table's JSON (built-in or override); throws a message naming what is wrong. */
export function parsePriceTable(raw: unknown): Omit<PriceTable, 'overrideError'> {
  if (!isObject(raw)) throw new Error('not a JSON object');
  const models: Record<string, ModelPrice> = {};
  if (raw.models !== undefined) {
    if (!isObject(raw.models)) throw new Error('"models" must be an object');
    for (const [name, entry] of Object.entries(raw.models)) {
      if (!isObject(entry)) throw new Error(`models["${name}"] must be an object`);
      const { inputUsdPerMTok: input, outputUsdPerMTok: output } = entry;
      const cached = entry.cachedInputUsdPerMTok ?? input;
      if (!validPrice(input) || !validPrice(output) || !validPrice(cached)) {
        throw new Error(`models["${name}"] needs inputUsdPerMTok and outputUsdPerMTok (and optional cachedInputUsdPerMTok) as numbers from 0 to ${MAX_PRICE}`);
      }
      models[name.toLowerCase()] = { inputUsdPerMTok: input, outputUsdPerMTok: output, cachedInputUsdPerMTok: cached };
    }
  }
  const defaults: Record<string, string> = {};
  if (raw.defaults !== undefined) {
    if (!isObject(raw.defaults)) throw new Error('"defaults" must be an object');
    for (const [runtime, model] of Object.entries(raw.defaults)) {
      if (typeof model !== 'string' || model === '') throw new Error(`defaults["${runtime}"] must be a model name`);
      defaults[runtime] = model;
    }
  }
  return { models, defaults };
}

const BUILT_IN = parsePriceTable(builtIn);

export function builtInPrices(): PriceTable {
  return { models: { ...BUILT_IN.models }, defaults: { ...BUILT_IN.defaults } };
}

/** The built-in table with an override file's entries on top (a bad file is reported, never half-applied). */
export function pricesWith(overridePath: string): PriceTable {
  const table = builtInPrices();
  let text: string;
  try {
    text = readFileSync(overridePath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return table;
    return { ...table, overrideError: `${overridePath}: ${(err as Error).message}` };
  }
  try {
    const override = parsePriceTable(JSON.parse(text));
    return { models: { ...table.models, ...override.models }, defaults: { ...table.defaults, ...override.defaults } };
  } catch (err) {
    return { ...table, overrideError: `${overridePath} ignored: ${(err as Error).message}` };
  }
}

const cache = new Map<string, { stamp: string; table: PriceTable }>();

/** The table of an instance (`$MOSAIC_HOME/prices.json` over the built-in), re-read when the file changes. */
export function instancePrices(home: string): PriceTable {
  const path = join(home, 'prices.json');
  let stamp = 'none';
  try {
    const st = statSync(path);
    stamp = `${st.mtimeMs}:${st.size}`;
  } catch {
    // No override file: the built-in table.
  }
  const hit = cache.get(path);
  if (hit && hit.stamp === stamp) return hit.table;
  const table = pricesWith(path);
  cache.set(path, { stamp, table });
  return table;
}

/**
 * The price of a model: its exact name, else without a provider prefix
 * (`openai/gpt-6-sol`, `models/gemini-2.5-pro`), a date or version suffix
 * (`-20250929`, `-2026-09-29`, `@20250929`, `-001`) or a context marker
 * (`[1m]`). Never a prefix of another model (`gpt-6` is not `gpt-6-luna`).
 */
export function priceOf(table: PriceTable, model: string): ModelPrice | undefined {
  let name = model.trim().toLowerCase();
  const exact = table.models[name];
  if (exact) return exact;
  name = name.replace(/\[[^\]]*\]$/, '');
  const slash = name.lastIndexOf('/');
  if (slash >= 0) name = name.slice(slash + 1);
  if (table.models[name]) return table.models[name];
  name = name.replace(/(?:[-@](?:\d{8}|\d{4}-\d{2}-\d{2}|\d{3}))$/, '');
  return table.models[name];
}

/** The model a run's cost is computed for: the spec's, else the one the stream named, else the runtime's default. */
export function modelOf(spec: RuntimeSpec, summary: Pick<RunSummary, 'model'>, table: PriceTable): string | undefined {
  const requested = 'model' in spec && typeof spec.model === 'string' ? spec.model : undefined;
  return requested ?? summary.model ?? table.defaults[spec.kind];
}

/** USD for tokens at a price (cached input at the cached price; reasoning is inside output). */
export function usageCost(usage: TokenUsage, price: ModelPrice): number {
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  const usd = ((usage.inputTokens - cached) * price.inputUsdPerMTok
    + cached * price.cachedInputUsdPerMTok
    + usage.outputTokens * price.outputUsdPerMTok) / 1_000_000;
  // Micro-dollar precision: enough for any bill, no float noise on the record.
  return Math.round(usd * 1e6) / 1e6;
}

/**
 * A run's cost: reported by the runtime, or estimated from its usage, or
 * null (no usage yet, or a model without a price) with a note saying why.
 */
export function runCost(spec: RuntimeSpec, summary: Pick<RunSummary, 'model' | 'usage' | 'reportedCostUsd'>, table: PriceTable): RunCost {
  if (summary.reportedCostUsd !== undefined) return { costUsd: summary.reportedCostUsd, costEstimated: false };
  if (summary.usage === undefined) return { costUsd: null, costEstimated: false, costNote: 'no token usage reported' };
  const model = modelOf(spec, summary, table);
  const withOverride = table.overrideError ? ` (${table.overrideError})` : '';
  if (model === undefined) {
    return { costUsd: null, costEstimated: false, costNote: `the model is unknown (set runtime.model)${withOverride}` };
  }
  const price = priceOf(table, model);
  if (price === undefined) {
    return { costUsd: null, costEstimated: false, costNote: `no price for model ${model} (add it to $MOSAIC_HOME/prices.json)${withOverride}` };
  }
  return { costUsd: usageCost(summary.usage, price), costEstimated: true };
}
