/** Whatever a bounded record adds to a cut text, so a reader sees it was cut. */
export const TRUNCATED_MARKER = '…[truncated by mosaic; the full text is on the instance that ran the agent]';

/**
 * How much of an agent's prompt its events and the records sent to peers
 * carry: every transition repeats the record, and a prompt may be 127 KiB of
 * characters that JSON escapes to six bytes each. The agents row keeps the
 * whole prompt (`GET /agents/:id`).
 */
export const PROMPT_ECHO_CHARS = 2 * 1024;

/** `text`, or its first `max` characters followed by the marker. Cutting a cut text again changes nothing. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (text.endsWith(TRUNCATED_MARKER) && text.length <= max + TRUNCATED_MARKER.length) return text;
  return `${text.slice(0, max)}${TRUNCATED_MARKER}`;
}
