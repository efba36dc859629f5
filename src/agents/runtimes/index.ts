/** Agent runtimes: how an agent is invoked, with what environment and port, and how its output is read. */
export { agentEnvironment, validateUserEnv, MAX_ARG_BYTES, type AgentEnvironmentExtra } from './environment.js';
export { commandInvocation, MAX_COMMAND_ARGS } from './command.js';
export { claudeInvocation, PERMISSION_MODES, ROLE_PROMPTS, SESSION_RE, type PermissionMode } from './claude.js';
export { NO_PROJECT_CONFIG_ARGS, type ClaudeInvocationOptions } from './claude.js';
export { allowsProjectConfig } from './project-config.js';
export {
  ClaudeStreamState,
  parseClaudeLine,
  summarizeClaudeLog,
  type ClaudeLine,
  type ClaudeProgress,
  type ClaudeSummary,
} from './claude-stream.js';
export { runtimeBins, runtimeOf, RUNTIME_KINDS } from './registry.js';
export { codexRuntime, CodexStream } from './codex.js';
export { geminiRuntime, GeminiStream } from './gemini.js';
export { opencodeRuntime, OpencodeStream } from './opencode.js';
export type {
  AgentRuntime, CredentialFile, Invocation, InvocationInput, Preflight, RateLimitSignal, RunSummary, RuntimeBins, RuntimeStream, StreamEvent,
} from './runtime.js';
export {
  builtInPrices, instancePrices, modelOf, parsePriceTable, priceOf, pricesWith, runCost, usageCost,
  type ModelPrice, type PriceTable, type RunCost,
} from './pricing.js';
export { epochMs, mentionsRateLimit, rejectedIfRateLimit } from './rate-limit.js';
export { reservePort } from './ports.js';
export { explainAgentError, runtimeNotFoundHint } from './not-found.js';
