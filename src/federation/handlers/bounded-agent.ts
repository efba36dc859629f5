import { publicAgent, type AgentRecord, type PublicAgent } from '../../agents/index.js';
import { cutText, PROMPT_ECHO_CHARS, TRUNCATED_MARKER } from '../../core/text-bounds.js';
import { MAX_RESULT_BYTES } from './limits.js';

export { cutText, TRUNCATED_MARKER };

/**
 * Limits (in characters) of the long texts of an agent record that travels
 * to a peer. A claude result, an error message or a prompt can be far larger
 * than one signed message may be (1 MiB); one such record must never stall
 * the event outbox or a command answer. The full values stay readable on the
 * instance that ran the agent (its local API).
 */
export const PEER_TEXT_LIMITS = {
  prompt: PROMPT_ECHO_CHARS,
  summary: 16 * 1024,
  errorMessage: 4 * 1024,
  errorCode: 100,
  lastText: 2 * 1024,
  /** All argv strings together. */
  argv: 8 * 1024,
  tools: 50,
} as const;


function boundArgv(argv: string[]): string[] {
  const out: string[] = [];
  let left: number = PEER_TEXT_LIMITS.argv;
  for (const arg of argv) {
    if (arg.length > left) {
      out.push(cutText(arg, Math.max(0, left)));
      if (out.length < argv.length) out.push(TRUNCATED_MARKER);
      return out;
    }
    out.push(arg);
    left -= arg.length;
  }
  return out;
}

/**
 * The agent record as it is sent to a peer (events, command answers, pulls):
 * the public record (no env) with its long texts cut with a visible marker.
 * Every field is bounded, so one record stays far below MAX_RESULT_BYTES.
 */
export function boundedAgent(agent: AgentRecord | PublicAgent): PublicAgent {
  const pub = publicAgent(agent);
  const out: PublicAgent = { ...pub, prompt: cutText(pub.prompt, PEER_TEXT_LIMITS.prompt) };
  if (pub.runtime.kind === 'command') out.runtime = { kind: 'command', argv: boundArgv(pub.runtime.argv) };
  if (pub.error) {
    out.error = { code: cutText(pub.error.code, PEER_TEXT_LIMITS.errorCode), message: cutText(pub.error.message, PEER_TEXT_LIMITS.errorMessage) };
  }
  if (pub.result) {
    const result = { ...pub.result };
    if (typeof result.summary === 'string') result.summary = cutText(result.summary, PEER_TEXT_LIMITS.summary);
    if (typeof result.sessionId === 'string') result.sessionId = cutText(result.sessionId, 200);
    out.result = result;
  }
  if (pub.progress) {
    const progress = { ...pub.progress };
    if (typeof progress.lastText === 'string') progress.lastText = cutText(progress.lastText, PEER_TEXT_LIMITS.lastText);
    if (Array.isArray(progress.tools)) progress.tools = progress.tools.slice(0, PEER_TEXT_LIMITS.tools).map((t) => cutText(t, 100));
    if (typeof progress.sessionId === 'string') progress.sessionId = cutText(progress.sessionId, 200);
    out.progress = progress;
  }
  return out;
}

/**
 * A list of bounded records that fits in one answer: records past the limit
 * are left out and `truncated` says so (the peer can filter by state).
 */
export function boundedAgentList(agents: (AgentRecord | PublicAgent)[]): { agents: PublicAgent[]; truncated?: true } {
  const out: PublicAgent[] = [];
  let size = 64;
  for (const agent of agents) {
    const bounded = boundedAgent(agent);
    size += Buffer.byteLength(JSON.stringify(bounded)) + 1;
    if (size > MAX_RESULT_BYTES) return { agents: out, truncated: true };
    out.push(bounded);
  }
  return { agents: out };
}
