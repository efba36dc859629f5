import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Readable, Writable } from 'node:stream';
import { VERSION } from '../core/version.js';
import { SERVER_INFO, SERVER_INSTRUCTIONS } from './info.js';
import { WAIT_MAX_S } from './tools/index.js';

/** Longer than the longest tool call (`wait_agents` at its maximum), so the instance always answers first. */
const CALL_TIMEOUT_MS = (WAIT_MAX_S + 60) * 1000;

export interface StdioTarget {
  url: string;
  token: string;
}

/**
 * `mosaic mcp`: Mosaic's MCP tools on stdin/stdout for an agent CLI that
 * starts MCP servers as programs (`claude mcp add mosaic -- mosaic mcp`).
 * Like every CLI verb it talks to the running instance over HTTP with the
 * admin token: it is an MCP server on stdio whose tool list and calls are
 * the instance's own, through the SDK's client on `POST /mcp`. So both
 * transports run the very same tools; nothing is decided here.
 *
 * Resolves when the stdio client goes away. Throws when the instance cannot
 * be reached or refuses the token (before anything is written to stdout).
 */
export async function runStdioServer(target: StdioTarget, io: { stdin?: Readable; stdout?: Writable } = {}): Promise<void> {
  const upstream = new Client({ name: 'mosaic-mcp-stdio', version: VERSION });
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', target.url), {
    requestInit: { headers: { authorization: `Bearer ${target.token}` } },
  });
  await upstream.connect(transport);

  const server = new Server(SERVER_INFO, { capabilities: { tools: {} }, instructions: upstream.getInstructions() ?? SERVER_INSTRUCTIONS });
  server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => upstream.listTools(request.params, { signal: extra.signal }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const progressToken = request.params._meta?.progressToken;
    const params = { name: request.params.name, ...(request.params.arguments === undefined ? {} : { arguments: request.params.arguments }) };
    return upstream.callTool(params, undefined, {
      signal: extra.signal,
      timeout: CALL_TIMEOUT_MS,
      ...(progressToken === undefined ? {} : {
        resetTimeoutOnProgress: true,
        onprogress: (p) => void extra.sendNotification({ method: 'notifications/progress', params: { ...p, progressToken } }).catch(() => {}),
      }),
    });
  });
  const closed = new Promise<void>((resolve) => {
    server.onclose = resolve;
  });
  const stdin = io.stdin ?? process.stdin;
  await server.connect(new StdioServerTransport(stdin, io.stdout));
  // The SDK's stdio transport does not end on EOF: a client that closes our stdin is gone.
  stdin.once('end', () => void server.close());
  await closed;
  await upstream.close();
}
