/** Agent runtimes: how an agent is invoked, with what environment and port, and how claude's output is read. */
export { agentEnvironment, validateUserEnv, MAX_ARG_BYTES, type AgentEnvironmentExtra } from './environment.js';
export { commandInvocation, MAX_COMMAND_ARGS, type Invocation } from './command.js';
export { claudeInvocation, PERMISSION_MODES, ROLE_PROMPTS, SESSION_RE, type PermissionMode } from './claude.js';
export {
  ClaudeStreamState,
  parseClaudeLine,
  summarizeClaudeLog,
  type ClaudeLine,
  type ClaudeProgress,
  type ClaudeSummary,
} from './claude-stream.js';
export { reservePort } from './ports.js';
