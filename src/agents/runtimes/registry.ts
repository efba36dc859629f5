/** Every runtime by kind: the only place that knows which runtimes exist. */
import type { Config } from '../../core/config.js';
import type { RuntimeKind, RuntimeSpec } from '../types.js';
import { claudeRuntime } from './claude.js';
import { codexRuntime } from './codex.js';
import { commandRuntime } from './command.js';
import { geminiRuntime } from './gemini.js';
import { opencodeRuntime } from './opencode.js';
import type { AgentRuntime, RuntimeBins, SpecOf } from './runtime.js';

const RUNTIMES: { [K in RuntimeKind]: AgentRuntime<SpecOf<K>> } = {
  claude: claudeRuntime,
  codex: codexRuntime,
  gemini: geminiRuntime,
  opencode: opencodeRuntime,
  command: commandRuntime,
};

export const RUNTIME_KINDS = Object.keys(RUNTIMES) as RuntimeKind[];

/** The runtime of a spec (typed loosely: callers hold a RuntimeSpec whose kind picks the runtime). */
export function runtimeOf(spec: RuntimeSpec): AgentRuntime {
  return RUNTIMES[spec.kind] as unknown as AgentRuntime;
}

export function runtimeBins(config: Pick<Config, 'claudeBin' | 'codexBin' | 'geminiBin' | 'opencodeBin'>): RuntimeBins {
  return { claude: config.claudeBin, codex: config.codexBin, gemini: config.geminiBin, opencode: config.opencodeBin };
}
