import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './program.js';

function* commandsOf(command: Command, path: string[] = []): Generator<[string, Command]> {
  for (const sub of command.commands) {
    const at = [...path, sub.name()];
    yield [at.join(' '), sub];
    yield* commandsOf(sub, at);
  }
}

/**
 * Commander reads the program's own options anywhere on the line, so a verb
 * option of the same name never reaches the verb: `peers set hub --url X`
 * sent the request (and the admin token) to X. No verb may declare one.
 */
describe('the mosaic command tree', () => {
  it('has no verb option that a global option would take', () => {
    const program = buildProgram();
    const global = new Set(program.options.map((o) => o.long).filter((long): long is string => long !== undefined));
    expect(global.has('--url')).toBe(true);
    const shadowed: string[] = [];
    let verbs = 0;
    for (const [path, command] of commandsOf(program)) {
      verbs++;
      for (const option of command.options) if (option.long !== undefined && global.has(option.long)) shadowed.push(`${path} ${option.long}`);
    }
    expect(verbs).toBeGreaterThan(40);
    expect(shadowed).toEqual([]);
  });
});
