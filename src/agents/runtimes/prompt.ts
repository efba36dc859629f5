import { invalid } from '../../core/errors.js';
import { MAX_ARG_BYTES } from './environment.js';

/** A prompt every CLI runtime can be given as one argv element: not empty, no NUL, within Linux's argv limit. */
export function checkPrompt(prompt: string): void {
  if (prompt.trim() === '') throw invalid('invalid_prompt', 'prompt must not be empty', { field: 'prompt' });
  if (prompt.includes('\0')) throw invalid('invalid_prompt', 'prompt must not contain NUL characters', { field: 'prompt' });
  if (Buffer.byteLength(prompt) > MAX_ARG_BYTES) {
    throw invalid('invalid_prompt', `prompt is too large (at most ${MAX_ARG_BYTES} bytes)`, { field: 'prompt' });
  }
}

/** A binary setting (MOSAIC_<KIND>_BIN) that can be exec'd: a non-empty path without NUL. */
export function checkBin(kind: string, setting: string, bin: string): void {
  if (bin === '' || bin.includes('\0')) {
    throw invalid(`invalid_${kind}_bin`, `the ${kind} binary (${setting}) must be a non-empty path without NUL`);
  }
}
