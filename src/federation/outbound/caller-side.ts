import type { ErrorInfo } from '../protocol/index.js';

const count = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined);
const name = (value: unknown): string | undefined => (typeof value === 'string' && value.length <= 200 ? value : undefined);

/**
 * A peer's refusal of a grant check, worded from the side that reads it
 * (issue 22, defect 7). The peer words it for itself ("this peer may have at
 * most 1 active agents here"); read on the caller, that reads backwards. The
 * peer's own message stays in details.peerMessage. Codes not listed keep the
 * peer's words.
 */
export function callerSideMessage(who: string, error: ErrorInfo): string | undefined {
  const details = error.details ?? {};
  const grantHint = `its admin changes that with 'mosaic peers grant <this instance's name there> …' on ${who}`;
  switch (error.code) {
    case 'max_agents_exceeded': {
      const max = count(details.maxActiveAgents);
      const active = count(details.activeAgents);
      if (max === undefined) return undefined;
      return `${who} allows at most ${max} active agent${max === 1 ? '' : 's'} from this instance`
        + `${active === undefined ? '' : ` (${active} active there now)`}; wait for one to end or kill one, `
        + `or ${grantHint.replace('…', `--max-agents N`)}`;
    }
    case 'repo_not_granted': {
      const repo = name(details.repo);
      return repo === undefined ? undefined : `${who} has not granted this instance repository ${repo}; ${grantHint.replace('…', '--repos …')}`;
    }
    case 'runtime_not_granted': {
      const runtime = name(details.runtime);
      return runtime === undefined ? undefined : `${who} has not granted this instance runtime ${runtime}; ${grantHint.replace('…', '--runtimes …')}`;
    }
    case 'command_not_granted': {
      const command = name(details.command);
      return command === undefined ? undefined : `${who} has not granted this instance ${command}; ${grantHint.replace('…', '--commands …')}`;
    }
    default:
      return undefined;
  }
}
