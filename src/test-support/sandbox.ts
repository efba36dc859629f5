/**
 * Helpers for the sandbox attack tests: one shell script that tries each
 * attack and prints `LEAK:<name>` when it worked or `BLOCKED:<name>` when it
 * failed, and a reader of those lines from an agent's log.
 */
import { probeSandbox } from '../agents/sandbox/index.js';

/** Single-quotes `s` for sh. */
export const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function attackScript(attempts: Record<string, string>): string {
  return Object.entries(attempts)
    .map(([name, command]) => `if (${command}) >/dev/null 2>&1; then echo LEAK:${name}; else echo BLOCKED:${name}; fi`)
    .join('\n');
}

export function attackOutcome(lines: readonly string[]): { leaked: string[]; blocked: string[] } {
  const pick = (prefix: string) => lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length).trim());
  return { leaked: pick('LEAK:'), blocked: pick('BLOCKED:') };
}

/** True where bubblewrap works (Linux with bwrap installed): the sandbox tests need it, as CI has it. */
export const sandboxAvailable = (): boolean => probeSandbox('bwrap').available;
