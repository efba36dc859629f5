import { AgentCard } from '@a2a-js/sdk';
import { VERSION } from '../core/version.js';
import { WHERE_SCHEMA } from './request.js';

/** The A2A versions served: v1.0, and v0.3 through the SDK's compatibility layer. */
export const PROTOCOL_VERSIONS = ['1.0', '0.3'] as const;
const MODES = ['text/plain', 'application/json'];

const DESCRIPTION = 'Mosaic runs coding agents in parallel, each in its own git worktree and branch, sandboxed, on this machine '
  + 'or on federated Mosaic peers. Send a message whose text is the task and whose data part says where: '
  + '{"repo": "<registered repository>", "taskId"?, "runtime"?: {"kind": "claude"|"command", …}, "baseBranch"?, "type"?}. '
  + 'The task id is the agent id; its artifacts on completion are a summary, the diff stat and the branch.';

export interface CardOptions {
  /** This instance's name (MOSAIC_NAME). */
  name: string;
  /** Where clients reach this instance (MOSAIC_URL); read at each request, since it is known only once the server listens. */
  url: () => string;
}

/** The agent card (v1.0 form, the SDK's types): one JSON-RPC endpoint at `/a2a`, listed for v1.0 and v0.3, bearer auth, one skill. */
export function buildAgentCard(opts: CardOptions): AgentCard {
  const endpoint = `${opts.url().replace(/\/+$/, '')}/a2a`;
  const runtimes = (WHERE_SCHEMA.properties.runtime as { oneOf?: { properties?: { kind?: { const?: string } } }[] }).oneOf
    ?.map((variant) => variant.properties?.kind?.const).filter((kind): kind is string => typeof kind === 'string') ?? [];
  return {
    name: opts.name === 'mosaic' ? 'Mosaic' : `Mosaic (${opts.name})`,
    description: DESCRIPTION,
    supportedInterfaces: PROTOCOL_VERSIONS.map((protocolVersion) => ({ url: endpoint, protocolBinding: 'JSONRPC', tenant: '', protocolVersion })),
    provider: undefined,
    version: VERSION,
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {
      bearer: {
        scheme: {
          $case: 'httpAuthSecurityScheme',
          value: { scheme: 'Bearer', bearerFormat: 'opaque', description: 'The instance\'s admin token, or an A2A client token from `mosaic a2a tokens create`' },
        },
      },
    },
    securityRequirements: [{ schemes: { bearer: { list: [] } } }],
    defaultInputModes: MODES,
    defaultOutputModes: MODES,
    skills: [{
      id: 'coding-task',
      name: 'Coding task in a git repository',
      description: 'A coding agent works on the task in its own worktree and branch of a registered repository and commits its work. '
        + `Runtimes: ${runtimes.join(', ')} (as the client's token grants). Cancel ends it (killed); its commits stay on its branch.`,
      tags: ['coding', 'git', 'worktree', ...runtimes],
      examples: [
        'Fix the failing login test. (data: {"repo": "web"})',
        'Add a --json flag to the export command and document it. (data: {"repo": "cli", "taskId": "export-json", "runtime": {"kind": "claude", "model": "sonnet"}})',
      ],
      inputModes: MODES,
      outputModes: MODES,
      securityRequirements: [],
    }],
    signatures: [],
  };
}

/** The card as v1.0 clients read it (protobuf JSON). */
export const cardJson = (card: AgentCard): unknown => AgentCard.toJSON(card);

/**
 * The card as v0.3 clients read it: `url` and `preferredTransport` naming the
 * v0.3 interface, 0.3 security scheme shapes; the v1.0 interfaces are listed
 * too (`supportedInterfaces`), as the SDK's own compat card does, so a v1.0
 * client that asks without a version still finds them.
 */
export function legacyCardJson(card: AgentCard): Record<string, unknown> {
  const legacy = card.supportedInterfaces.find((i) => i.protocolVersion === '0.3')!;
  const skill = card.skills.map(({ id, name, description, tags, examples, inputModes, outputModes }) => ({ id, name, description, tags, examples, inputModes, outputModes }));
  return {
    name: card.name,
    description: card.description,
    version: card.version,
    url: legacy.url,
    preferredTransport: legacy.protocolBinding,
    protocolVersion: '0.3.0',
    capabilities: { streaming: card.capabilities?.streaming ?? false, pushNotifications: false },
    defaultInputModes: card.defaultInputModes,
    defaultOutputModes: card.defaultOutputModes,
    skills: skill,
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The instance\'s admin token, or an A2A client token' } },
    security: [{ bearer: [] }],
    supportedInterfaces: (cardJson(card) as { supportedInterfaces: unknown[] }).supportedInterfaces,
  };
}
