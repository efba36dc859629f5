import { InvalidArgumentError } from 'commander';
import { isValidName, NAME_RULE } from '../core/ids.js';

/** Option parsers shared by commands; commander turns their errors into usage errors (exit 2). */

/** Accumulates a repeatable option into an array. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** An integer option within [min, max]. */
export function integer(min: number, max: number = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}.`);
    }
    return n;
  };
}

/** An amount of US dollars above 0 and at most `max` (`--budget 2.5`). */
export function usd(max = 1_000_000): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(n) || n <= 0 || n > max) {
      throw new InvalidArgumentError(`must be an amount of USD above 0 and at most ${max} (e.g. 2.50).`);
    }
    return n;
  };
}

/** A repeatable `K=V` option into a record; later values of a key win. */
export function keyValue(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got '${value}'.`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** A repository name, task id or agent id, checked before anything is sent (a bad one is a usage error, exit 2). */
export function nameArg(value: string): string {
  if (!isValidName(value)) throw new InvalidArgumentError(`'${value}' is not a valid name: use ${NAME_RULE}.`);
  return value;
}
