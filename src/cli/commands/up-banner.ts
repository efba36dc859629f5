import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface BannerInput {
  version: string;
  /** The URL the server answers on. */
  url: string;
  home: string;
  sandbox: { state: 'bubblewrap' | 'off' | 'unavailable'; mode: string; detail: string };
  logFormat: 'json' | 'pretty';
  /**
   * The URL a shell's CLI would use without this server's lock: MOSAIC_URL or
   * the configured one. The CLI of the same home finds the server through its
   * lock; a shell with another home, or on another host, needs MOSAIC_URL.
   */
  cliDefaultUrl: string | undefined;
  /** Repositories already registered (a restart): then the next step is a spawn, not `repos add`. */
  repos: number;
}

function sandboxLine(sandbox: BannerInput['sandbox']): string {
  if (sandbox.state === 'bubblewrap') return `bubblewrap ok (${sandbox.detail})`;
  if (sandbox.state === 'off') return 'off (MOSAIC_SANDBOX=off: local agents run unsandboxed)';
  const consequence = sandbox.mode === 'required' ? 'MOSAIC_SANDBOX=required: every agent will fail' : 'local agents run unsandboxed, peers\' spawns are refused';
  return `unavailable: ${sandbox.detail} (${consequence})`;
}

/**
 * What `mosaic up` prints once it listens: where it is, whether agents are
 * sandboxed, and what to type next, with the settings another shell needs to
 * reach this server when they are not the defaults.
 */
export function upBanner(input: BannerInput): string {
  const exports: string[] = [];
  const otherHome = resolve(input.home) !== resolve(join(homedir(), '.mosaic'));
  if (otherHome) exports.push(`MOSAIC_HOME=${input.home}`);
  if (input.cliDefaultUrl !== input.url) exports.push(`MOSAIC_URL=${input.url}`);
  // Only the URL differs: this home's CLI finds the server through its lock; other homes and hosts need it.
  const exportLine = exports.length === 0 ? []
    : otherHome ? [`  export ${exports.join(' ')}`]
      : [`  export ${exports.join(' ')}   # for shells with another MOSAIC_HOME (this home's CLI finds it by itself)`];
  const lines = [
    `Mosaic ${input.version} is up at ${input.url}`,
    `  home       ${input.home}`,
    `  sandbox    ${sandboxLine(input.sandbox)}`,
    `  dashboard  ${input.url}/ (sign in with: mosaic dashboard --open)`,
    `  logs       ${input.logFormat === 'pretty' ? 'human-readable (--log-format json for JSON lines)' : 'JSON lines on stdout (--log-format pretty for human-readable)'}`,
    '',
    'Next, in another terminal:',
    ...exportLine,
    ...(input.repos === 0 ? ['  mosaic repos add <name> <path-to-git-repo>'] : [`  mosaic repos list   (${input.repos} registered)`]),
    '  mosaic agents spawn --repo <name> --task <task> --prompt "..."   (or: ... -- sh -c \'make test\')',
    '  mosaic agents list',
    '',
    'Ctrl-C stops the server; running agents keep running under their supervisors.',
  ];
  return `${lines.join('\n')}\n`;
}
