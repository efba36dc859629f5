import { parse } from 'shell-quote';

export type SplitCommand = { argv: string[]; error?: undefined } | { argv?: undefined; error: string };

/**
 * A one-line command split into arguments as a shell would split it: quotes
 * and backslashes honoured, `#` starts a comment. Nothing is expanded (the
 * agent's program runs without a shell): `$NAME` and globs stay as written.
 * Shell operators (`|`, `&&`, `>` …) are refused with what to write instead.
 */
export function splitCommand(line: string): SplitCommand {
  let entries: parse.ParseEntry[];
  try {
    // The lookup returns text only, so every entry is a ParseEntry.
    entries = parse(line, (key: string) => `$${key}`) as parse.ParseEntry[];
  } catch (err) {
    return { error: `cannot split the command: ${err instanceof Error ? err.message : String(err)}` };
  }
  const argv: string[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string') argv.push(entry);
    else if ('comment' in entry) break;
    else if (entry.op === 'glob') argv.push(entry.pattern);
    else return { error: `'${entry.op}' is shell syntax, and the command runs without a shell: write it as sh -c '…'` };
  }
  return { argv };
}

/** One argument per line (the advanced form): lines kept as typed, empty lines skipped. */
export function argvFromLines(text: string): string[] {
  return text.split('\n').map((a) => a.replace(/\r$/, '')).filter((a) => a.trim() !== '');
}
