import { createHash, randomBytes } from 'node:crypto';
import type { Message } from '@a2a-js/sdk';
import type { SpawnRequest } from '../agents/index.js';
import { invalid } from '../core/errors.js';
import { isValidName } from '../core/ids.js';
import { spawnBody } from '../http/schemas.js';
import { compileBodyValidator, type ValidationIssue } from '../http/validators.js';

/**
 * Spawn fields a message may carry besides its text (which is the prompt):
 * the HTTP spawn body's own fields and schemas, so a runtime or field it
 * gains (budgetUsd, new runtime kinds) follows; never `env`, `peer` or the
 * idempotency key (a message id is that).
 */
const EXCLUDED = new Set(['prompt', 'env', 'peer', 'idempotencyKey']);
const WHERE_FIELDS = Object.keys(spawnBody.properties).filter((key) => !EXCLUDED.has(key));
export const WHERE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['repo'],
  properties: Object.fromEntries(WHERE_FIELDS.map((key) => [key, (spawnBody.properties as Record<string, unknown>)[key]])),
} as const;
const checkWhere = compileBodyValidator(WHERE_SCHEMA);

/** A validation failure shaped as Fastify's, so http/errors.ts names it (`missing_repo`, `invalid_runtime`). */
export class MessageDataInvalid extends Error {
  readonly validationContext = 'message data';
  constructor(readonly validation: ValidationIssue[]) {
    super('invalid message data');
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A message's text parts joined (the prompt) and its data parts' values, in order. */
function partsOf(message: Message): { prompt: string; data: unknown[] } {
  const texts: string[] = [];
  const data: unknown[] = [];
  for (const part of message.parts) {
    const content = part.content;
    if (content?.$case === 'text') texts.push(content.value);
    else if (content?.$case === 'data') data.push(content.value);
  }
  return { prompt: texts.join('\n\n').trim(), data };
}

/** Idempotency keys are at most 200 characters; a longer message id is hashed (same id, same key). */
function keyOf(messageId: string): string {
  return messageId.length <= 150 ? `a2a-msg-${messageId}` : `a2a-msg-sha256-${createHash('sha256').update(messageId).digest('hex')}`;
}

/**
 * The spawn a `SendMessage` asks for: the message's text parts are the
 * prompt; a data part `{repo, taskId?, runtime?, baseBranch?, type?, …}` (or
 * the same fields in the message's metadata; a data part wins) says where.
 * Mosaic's task id is `taskId`, else the message's context id when it is a
 * valid name, else a new one: the A2A context of the task is that task id.
 * The message id is the idempotency key, so a client's retry never spawns twice.
 */
export function spawnRequestOf(message: Message | undefined): SpawnRequest {
  if (!message) throw invalid('missing_message', 'SendMessage needs a message', { field: 'message' });
  refuseTaskId(message);
  const { prompt, data } = partsOf(message);
  const where: Record<string, unknown> = {};
  if (isObject(message.metadata)) for (const key of WHERE_FIELDS) if (message.metadata[key] !== undefined) where[key] = message.metadata[key];
  for (const value of data) {
    if (!isObject(value)) throw invalid('invalid_message_data', 'a data part must be an object {repo, taskId?, runtime?, baseBranch?, type?}', { field: 'data' });
    Object.assign(where, value);
  }
  const issues = checkWhere(where);
  if (issues) throw new MessageDataInvalid(issues);
  if (prompt === '') throw invalid('missing_prompt', 'the message has no text: its text parts are the agent\'s prompt', { field: 'prompt' });
  const taskId = (where.taskId as string | undefined) ?? (isValidName(message.contextId) ? message.contextId : `a2a-${randomBytes(4).toString('hex')}`);
  return { ...(where as Omit<SpawnRequest, 'prompt' | 'taskId'>), taskId, prompt, ...(message.messageId ? { idempotencyKey: keyOf(message.messageId) } : {}) };
}

/**
 * Mosaic never asks a client for input, so no task is ever waiting for a
 * message: a task continues as A2A says a finished one does, as a new task in
 * its context that references it (see followUpOf).
 */
function refuseTaskId(message: Message): void {
  if (message.taskId) {
    throw invalid('task_follow_up_unsupported',
      'a message to an existing task is not supported: send a new message with referenceTaskIds: [<task id>] to continue a finished task', { field: 'message.taskId' });
  }
}

/** A follow-up message: the task it continues and the new prompt (its id the idempotency key). */
export interface FollowUpMessage {
  referenceTaskId: string;
  prompt: string;
  idempotencyKey?: string;
}

/**
 * A message that continues a finished task (`referenceTaskIds: [id]`, A2A's
 * way to refine a task in a terminal state): its text is the new prompt; it
 * runs as Mosaic's follow-up (`reply`) of that agent, on its branch with its
 * request, so it may not say where (repo, runtime, …) again. Null when the
 * message references no task.
 */
export function followUpOf(message: Message | undefined): FollowUpMessage | null {
  if (!message || message.referenceTaskIds.length === 0) return null;
  refuseTaskId(message);
  if (message.referenceTaskIds.length > 1) {
    throw invalid('too_many_reference_tasks', 'a follow-up continues one task: referenceTaskIds must name exactly one', { field: 'message.referenceTaskIds' });
  }
  const { prompt, data } = partsOf(message);
  if (data.length > 0) {
    throw invalid('follow_up_fields_unsupported', 'a follow-up runs with the referenced task\'s repository, runtime and branch: send only text', { field: 'data' });
  }
  if (isObject(message.metadata) && WHERE_FIELDS.some((key) => (message.metadata as Record<string, unknown>)[key] !== undefined)) {
    throw invalid('follow_up_fields_unsupported', 'a follow-up runs with the referenced task\'s repository, runtime and branch: send only text', { field: 'metadata' });
  }
  if (prompt === '') throw invalid('missing_prompt', 'the message has no text: its text parts are the follow-up\'s prompt', { field: 'prompt' });
  return { referenceTaskId: message.referenceTaskIds[0]!, prompt, ...(message.messageId ? { idempotencyKey: keyOf(message.messageId) } : {}) };
}
