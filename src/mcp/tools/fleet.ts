import { objectSchema, type ToolDef } from './types.js';

export const listRepos: ToolDef = {
  name: 'list_repos',
  title: 'List repositories',
  description: 'The repositories agents can work in here (spawn_agent\'s `repo`), with their base branch, setup command and warm-pool state. '
    + 'Agents only run in registered repositories; a human registers them with `mosaic repos add`.',
  inputSchema: objectSchema({}),
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(_args, { services }) {
    const repos = await services.repos.list();
    const text = repos.length === 0
      ? 'No repositories registered (a human adds them with `mosaic repos add <name> <path>`).'
      : repos.map((r) => `${r.name}: ${r.path} (base ${r.baseBranch})`).join('\n');
    return { structured: { repos }, text };
  },
};

export const listPeers: ToolDef = {
  name: 'list_peers',
  title: 'List federated peers',
  description: 'Other Mosaic instances this one is connected to, with their state and what each side may do on the other (grants: '
    + 'repositories, runtimes, how many agents). An active peer\'s name can be passed as spawn_agent\'s `peer` to run an agent there.',
  inputSchema: objectSchema({}),
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(_args, { services }) {
    const connections = (await services.peers()) as { name: string; state: string; url: string }[];
    const text = connections.length === 0 ? 'No peers.' : connections.map((c) => `${c.name}: ${c.state} (${c.url})`).join('\n');
    return { structured: { connections }, text };
  },
};
