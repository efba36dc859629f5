import type { AgentError, RuntimeSpec } from '../types.js';

/**
 * The setting that names each runtime's executable. A kind not listed here
 * is found on the server's PATH by its own name.
 */
const BIN_SETTINGS: Readonly<Record<string, string>> = { claude: 'MOSAIC_CLAUDE_BIN' };

/** What to do when a runtime's program was not found (issue 22, defect 7): which setting or PATH entry to fix. */
export function runtimeNotFoundHint(runtime: RuntimeSpec): string {
  if (runtime.kind === 'command') {
    return 'the command\'s first argument must be a program on the agent\'s PATH or a path to one (the server\'s PATH unless the spawn set env.PATH)';
  }
  const setting = BIN_SETTINGS[runtime.kind];
  if (setting !== undefined) {
    return `set ${setting} to the ${runtime.kind} executable's path (or put ${runtime.kind} on the server's PATH) and restart the server; mosaic doctor checks it`;
  }
  return `put ${runtime.kind} on the server's PATH and restart the server`;
}

/** An agent's error, with the runtime hint added to a `runtime_not_found` (once). */
export function explainAgentError(error: AgentError, runtime: RuntimeSpec): AgentError {
  if (error.code !== 'runtime_not_found') return error;
  const hint = runtimeNotFoundHint(runtime);
  return error.message.includes(hint) ? error : { ...error, message: `${error.message}: ${hint}` };
}
