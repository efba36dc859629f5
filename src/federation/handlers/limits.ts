/** What one answer may carry: well under MAX_BODY_BYTES once wrapped in a signed envelope. */
export const MAX_RESULT_BYTES = 768 * 1024;

/** How large a signed answer carrying a bundle of `maxBundleBytes` (base64) may be. */
export function bundleAnswerLimit(maxBundleBytes: number): number {
  return Math.ceil(maxBundleBytes / 3) * 4 + 64 * 1024;
}
