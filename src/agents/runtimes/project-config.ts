import type { RepoRecord } from '../../store/types.js';
import type { AgentRecord } from '../types.js';

/**
 * Whether an agent's runtime may load the configuration its repository
 * carries (DESIGN §3 "Hostile input"). That configuration is code: Claude
 * Code's `.claude/settings.json` hooks run shell commands at start, whatever
 * tools the agent was given, and any agent that can write a file can commit
 * one for the next agent spawned from its branch.
 *
 * - A peer's agent (its record carries the grant's `limits`): only when the
 *   grant says `projectConfig: true` and the repository allows it.
 * - A local agent: the repository's `projectConfig` (default true;
 *   `mosaic repos set <name> --no-project-config` turns it off).
 *
 * Every runtime gets the answer as `projectConfig: boolean` and must then
 * disable what README.md in this folder lists.
 */
export function allowsProjectConfig(agent: Pick<AgentRecord, 'limits'>, repo: Pick<RepoRecord, 'projectConfig'>): boolean {
  const repoAllows = repo.projectConfig !== false;
  if (agent.limits === null) return repoAllows;
  return agent.limits.projectConfig === true && repoAllows;
}
