import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../core/logger.js';
import { errorAnswerOf } from '../http/errors.js';
import { compileBodyValidator, type ValidationIssue } from '../http/validators.js';
import { fitResult } from './bounds.js';
import { SERVER_INFO, SERVER_INSTRUCTIONS } from './info.js';
import type { McpServices } from './services.js';
import { TOOLS, type ToolDef } from './tools/index.js';

/** Minimum time between two progress notifications of one call. */
const PROGRESS_EVERY_MS = 5000;

/** `discriminator` is an Ajv/OpenAPI keyword: clients get plain JSON Schema, the server checks with the route's own schema. */
function advertised(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(advertised);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(Object.entries(schema).filter(([key]) => key !== 'discriminator').map(([key, value]) => [key, advertised(value)]));
}

const LISTED: Tool[] = TOOLS.map((tool) => ({
  name: tool.name,
  title: tool.title,
  description: tool.description,
  inputSchema: advertised(tool.inputSchema) as Tool['inputSchema'],
  annotations: { title: tool.title, ...tool.annotations },
}));
const BY_NAME = new Map(TOOLS.map((tool) => [tool.name, tool]));
const VALIDATORS = new Map(TOOLS.map((tool) => [tool.name, compileBodyValidator(tool.inputSchema)]));

/** A validation failure shaped as Fastify's, so http/errors.ts names it the same way (`missing_repo`, `invalid_task_id`). */
class ArgumentsInvalid extends Error {
  readonly validationContext = 'arguments';
  constructor(readonly validation: ValidationIssue[]) {
    super('invalid arguments');
  }
}

type Extra = Parameters<Parameters<Server['setRequestHandler']>[1]>[1];

async function callTool(services: McpServices, tool: ToolDef, args: Record<string, unknown>, extra: Extra, logger?: Logger): Promise<CallToolResult> {
  const progressToken = extra._meta?.progressToken;
  let sent = 0;
  let lastAt = 0;
  const progress = (message: string): void => {
    if (progressToken === undefined || Date.now() - lastAt < PROGRESS_EVERY_MS) return;
    lastAt = Date.now();
    void extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: ++sent, message } }).catch(() => {});
  };
  try {
    const issues = VALIDATORS.get(tool.name)!(args);
    if (issues) throw new ArgumentsInvalid(issues);
    const out = await tool.run(args, { services, signal: extra.signal, progress });
    const fitted = fitResult(out.structured, out.text);
    return { content: [{ type: 'text', text: fitted.text }], structuredContent: fitted.structured };
  } catch (err) {
    const answer = errorAnswerOf(err);
    if (answer.fault) logger?.error({ err, tool: tool.name }, 'MCP tool failed');
    const { code, message } = answer.body.error;
    return { isError: true, content: [{ type: 'text', text: `${code}: ${message}` }], structuredContent: { ...answer.body, status: answer.status } };
  }
}

/**
 * The MCP server over Mosaic's services: one per connection (per request
 * for the stateless HTTP transport). Uses the SDK's low-level `Server` so the
 * tools' input schemas are the HTTP routes' own JSON schemas (a spawn is
 * checked exactly as `POST /api/v1/agents` checks it).
 */
export function createMcpServer(services: McpServices, logger?: Logger): Server {
  const server = new Server(SERVER_INFO, { capabilities: { tools: {} }, instructions: SERVER_INSTRUCTIONS });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: LISTED }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = BY_NAME.get(request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `no tool '${request.params.name}' (list_tools names them)`);
    return callTool(services, tool, request.params.arguments ?? {}, extra, logger);
  });
  return server;
}
