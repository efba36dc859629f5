import { Role, type Message, type Part, type SendMessageRequest } from '@a2a-js/sdk';
import { ClientFactory, JsonRpcTransportFactory, type Client } from '@a2a-js/sdk/client';
import { randomUUID } from 'node:crypto';

/** A fetch that sends `Authorization: Bearer <token>` (how an SDK client is given its credentials). */
export function bearerFetch(token: string): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
}

/** The official v1.0 client for the instance at `url`, resolved from its agent card. */
export function a2aClient(url: string, token: string): Promise<Client> {
  return new ClientFactory({ transports: [new JsonRpcTransportFactory({ fetchImpl: bearerFetch(token) })] }).createFromUrl(url);
}

const part = (content: Part['content'], mediaType: string): Part => ({ content, metadata: undefined, filename: '', mediaType });

/** A user message: `text` is the prompt, `data` (when given) the data part saying where. */
export function userMessage(text: string, data?: Record<string, unknown>, extra: Partial<Message> = {}): Message {
  return {
    messageId: randomUUID(), contextId: '', taskId: '', role: Role.ROLE_USER,
    parts: [part({ $case: 'text', value: text }, 'text/plain'), ...(data ? [part({ $case: 'data', value: data }, 'application/json')] : [])],
    metadata: undefined, extensions: [], referenceTaskIds: [], ...extra,
  };
}

export function sendRequest(message: Message, returnImmediately = false): SendMessageRequest {
  return { tenant: '', message, configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately }, metadata: undefined };
}

/** The message and data of a JSON-RPC error the SDK client threw. */
export async function rpcFailure(call: Promise<unknown>): Promise<{ message: string; code: string | undefined }> {
  try {
    await call;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { message, code: /^([a-z0-9_]+): /.exec(message)?.[1] };
  }
  throw new Error('expected the call to fail');
}
