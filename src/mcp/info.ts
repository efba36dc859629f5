import { VERSION } from '../core/version.js';

/** What Mosaic's MCP server says it is (kept apart from the SDK so naming it loads nothing heavy). */
export const SERVER_INFO = { name: 'mosaic', title: 'Mosaic', version: VERSION };

export const SERVER_INSTRUCTIONS = 'Mosaic runs many coding agents in parallel, each in its own git worktree and branch, sandboxed, '
  + 'on this machine or on federated peers. Typical use: list_repos, spawn_agent once per independent task, wait_agents on their ids '
  + '(never poll), then agent_diff / agent_logs to review, conflicts before landing parallel work, land_agent what is good, '
  + 'retry_agent (continue: true) what is not, discard_agent what is not wanted.';
