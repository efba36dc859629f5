export { mcpHttpPlugin, type McpHttpOptions } from './http.js';
export { runStdioServer, type StdioTarget } from './stdio.js';
export { createMcpServer, SERVER_INFO } from './server.js';
export type { McpServices } from './services.js';
export { TOOLS, WAIT_DEFAULT_S, WAIT_MAX_S } from './tools/index.js';
export { MAX_TOOL_RESULT_BYTES } from './bounds.js';
