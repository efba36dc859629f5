import type { StdioTarget } from './stdio.js';

export { mcpHttpPlugin, type McpHttpOptions } from './http.js';
export type { StdioTarget } from './stdio.js';
export { SERVER_INFO } from './info.js';
export type { McpServices } from './services.js';
export { TOOLS, WAIT_DEFAULT_S, WAIT_MAX_S } from './tools/index.js';
export { MAX_TOOL_RESULT_BYTES } from './bounds.js';

/** `mosaic mcp`'s server: the SDK is loaded only when it runs, so no other CLI verb loads it. */
export async function runStdioServer(target: StdioTarget): Promise<void> {
  const { runStdioServer: run } = await import('./stdio.js');
  await run(target);
}
