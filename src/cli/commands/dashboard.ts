import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { clientFor } from '../context.js';
import { formatDuration, print, printError, printJson } from '../output.js';

interface LoginCode {
  code: string;
  path: string;
  expiresAt: number;
}

/** The platform's "open this URL" program, run without a shell (the URL is one argv item). */
function opener(): { bin: string; args: string[] } {
  if (process.platform === 'darwin') return { bin: 'open', args: [] };
  if (process.platform === 'win32') return { bin: 'rundll32', args: ['url.dll,FileProtocolHandler'] };
  return { bin: 'xdg-open', args: [] };
}

function openInBrowser(url: string): void {
  const { bin, args } = opener();
  try {
    const child = spawn(bin, [...args, url], { detached: true, stdio: 'ignore' });
    child.on('error', (err) => printError(`could not start ${bin} (${err.message}): open the URL below yourself`));
    child.unref();
  } catch (err) {
    printError(`could not start ${bin} (${(err as Error).message}): open the URL below yourself`);
  }
}

/**
 * `mosaic dashboard`: asks the running instance for a one-time login code and
 * prints the login URL as the last line, so the admin token never appears in
 * a URL or in the browser's history.
 */
export function dashboardCommand(): Command {
  return new Command('dashboard')
    .description('print a one-time login URL for the web dashboard (single use, valid for two minutes)')
    .option('--open', 'also open the URL in the default browser')
    .option('--json', 'print {url, expiresAt}')
    .action(async (opts: { open?: boolean; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const login = await client.post<LoginCode>('/dashboard/login-codes');
      const url = `${client.url}${login.path}`;
      if (opts.open) openInBrowser(url);
      if (opts.json) return printJson({ url, expiresAt: login.expiresAt });
      print(`Dashboard: ${client.url}`);
      print(`Sign in within ${formatDuration(login.expiresAt - Date.now())} with this one-time URL:`);
      print(url);
    });
}
