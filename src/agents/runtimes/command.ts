/** The `command` runtime: the user's argv, run as-is in the worktree (no shell). */
import { invalid } from '../../core/errors.js';
import type { CommandRuntime } from '../types.js';
import { MAX_ARG_BYTES } from './environment.js';
import type { AgentRuntime, Invocation } from './runtime.js';

export const MAX_COMMAND_ARGS = 1000;

export function commandInvocation(runtime: CommandRuntime): Invocation {
  const { argv } = runtime as { argv: unknown };
  if (!Array.isArray(argv) || argv.length === 0) {
    throw invalid('invalid_runtime', 'runtime.argv must be a non-empty array of strings', { field: 'runtime.argv' });
  }
  if (argv.length > MAX_COMMAND_ARGS) {
    throw invalid('invalid_runtime', `runtime.argv has more than ${MAX_COMMAND_ARGS} elements`, { field: 'runtime.argv' });
  }
  argv.forEach((arg: unknown, i) => {
    const field = `runtime.argv[${i}]`;
    if (typeof arg !== 'string') throw invalid('invalid_runtime', `${field} must be a string`, { field });
    if (arg.includes('\0')) throw invalid('invalid_runtime', `${field} must not contain NUL characters`, { field });
    if (Buffer.byteLength(arg) > MAX_ARG_BYTES) throw invalid('invalid_runtime', `${field} is too large`, { field });
  });
  if (argv[0] === '') throw invalid('invalid_runtime', 'runtime.argv[0] (the program) must not be empty', { field: 'runtime.argv[0]' });
  return { argv: [...(argv as string[])] };
}

/** The command runtime behind the common interface: opaque output, judged by its exit code alone. */
export const commandRuntime: AgentRuntime<CommandRuntime> = {
  kind: 'command',
  normalize: (spec) => ({ kind: 'command', argv: commandInvocation(spec).argv }),
  invocation: (spec) => commandInvocation(spec),
  stream: () => null,
  fresh: (spec) => spec,
  // Opaque output: a command's text is the user's program's, never read as a vendor's signal.
  rateLimitOf: () => null,
};
