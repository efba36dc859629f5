/** What one answer may carry: well under MAX_BODY_BYTES once wrapped in a signed envelope. */
export const MAX_RESULT_BYTES = 768 * 1024;
