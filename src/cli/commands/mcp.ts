import { Command } from 'commander';
import { CliError, messageOf } from '../client.js';
import { resolveTarget, type GlobalOptions } from '../context.js';

/**
 * `mosaic mcp`: Mosaic's tools for an agent CLI over MCP on stdin/stdout
 * (`claude mcp add mosaic -- mosaic mcp`). It talks to the running instance
 * like every verb (`--url`/MOSAIC_URL, the admin token). Nothing but MCP
 * messages is ever written to stdout; failures go to stderr.
 */
export function mcpCommand(): Command {
  return new Command('mcp')
    .description('Serve Mosaic\'s tools over MCP on stdin/stdout, for agent CLIs (e.g. `claude mcp add mosaic -- mosaic mcp`)')
    .addHelpText('after', `
Tools: list_repos, spawn_agent, wait_agents, list_agents, get_agent, agent_logs, agent_diff,
conflicts, land_agent, reply_agent, retry_agent, kill_agent, discard_agent, list_peers.
The instance must be running (mosaic up); the same tools are served at POST <url>/mcp.`)
    .action(async (_opts: unknown, command: Command) => {
      // An agent Mosaic runs never drives Mosaic: no recursion, even if its CLI's config names this server.
      if (process.env.MOSAIC_AGENT_ID) {
        throw new CliError('mcp_inside_agent', `mosaic mcp does not serve agents that Mosaic itself runs (MOSAIC_AGENT_ID=${process.env.MOSAIC_AGENT_ID})`);
      }
      const target = resolveTarget(command.optsWithGlobals<GlobalOptions>());
      if (!target.token) throw new CliError('auth_required', `no admin token at ${target.tokenPath}: run mosaic init, or set MOSAIC_HOME`);
      // Loaded here, not at the top: the MCP server pulls in the agents' modules and the store's drivers,
      // which every other verb (each a process of its own) would otherwise load at start for nothing.
      const { runStdioServer } = await import('../../mcp/index.js');
      try {
        await runStdioServer({ url: target.url, token: target.token });
      } catch (err) {
        throw new CliError('mcp_unavailable', `cannot serve Mosaic's tools from ${target.url}: ${messageOf(err)}`);
      }
    });
}
