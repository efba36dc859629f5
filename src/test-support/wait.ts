/** Polls until `fn` returns something other than null/undefined/false; throws a useful error on timeout. */
export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Shown in the timeout error, e.g. 'exit.json to appear'. */
  what?: string;
}

export async function waitFor<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 25, what }: WaitOptions = {},
): Promise<NonNullable<Exclude<T, false>>> {
  const started = Date.now();
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const value = await fn();
      lastValue = value;
      lastError = undefined;
      if (value !== null && value !== undefined && value !== false) return value as NonNullable<Exclude<T, false>>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() - started >= timeoutMs) {
      const detail = lastError !== undefined
        ? `last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`
        : `last value: ${JSON.stringify(lastValue)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what ?? fn.toString().slice(0, 120)} (${detail})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
