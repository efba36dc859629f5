import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** The protocol version issue 19 names: a 1.x SDK client negotiating it must work. */
export const PINNED_PROTOCOL = '2025-06-18';

/**
 * Makes the SDK's client ask for `version` in its `initialize` (the 1.x
 * client always asks for its latest) and records what the server agreed to.
 */
export function pinProtocol<T extends Transport>(transport: T, version = PINNED_PROTOCOL): T & { negotiated: () => string | undefined } {
  let negotiated: string | undefined;
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    if ('method' in message && message.method === 'initialize' && message.params) {
      return send({ ...message, params: { ...message.params, protocolVersion: version } }, options);
    }
    return send(message, options);
  };
  const set = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (v: string) => {
    negotiated = v;
    set?.(v);
  };
  return Object.assign(transport, { negotiated: () => negotiated });
}

export function mcpClient(): Client {
  return new Client({ name: 'mosaic-test', version: '1.0.0' });
}

/** Calls a tool and returns its result (never throws for a tool error: that is `isError`). */
export async function call(client: Client, name: string, args: Record<string, unknown> = {}, timeoutS = 120): Promise<CallToolResult & { structuredContent: Record<string, unknown> }> {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: timeoutS * 1000 });
  return result as CallToolResult & { structuredContent: Record<string, unknown> };
}

export const textOf = (result: CallToolResult): string => result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
