import { createInterface } from 'node:readline/promises';

/** Whether the CLI may ask a question: stdin and stderr are a terminal and no JSON was asked for. */
export function canAsk(json?: boolean): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true && !json;
}

/** Asks a yes/no question on stderr; anything but y/yes is no. */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
