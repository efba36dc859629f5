import type { McpServices } from '../services.js';

/** A JSON schema as sent to clients and checked by Ajv (always `type: object` at the top for tool inputs). */
export type JsonSchema = Record<string, unknown>;

/** Hints clients show or use to ask before a call (MCP ToolAnnotations). */
export interface ToolHints {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface ToolContext {
  services: McpServices;
  /** Aborted when the client cancels the call or goes away. */
  signal: AbortSignal;
  /** Reports progress to a client that asked for it (keeps a long `wait_agents` from timing out there). */
  progress(message: string): void;
}

/** A tool's answer before it is bounded: the structured content and a short text for people and models. */
export interface ToolOutput {
  structured: Record<string, unknown>;
  text: string;
}

export interface ToolDef {
  name: string;
  title: string;
  /** Written for a model: when to use it, what it returns, what to call next. */
  description: string;
  inputSchema: JsonSchema;
  annotations: ToolHints;
  /** Runs with arguments already checked against `inputSchema`. */
  run(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput>;
}

export const objectSchema = (properties: Record<string, unknown>, required: string[] = []): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length > 0 ? { required } : {}),
});
