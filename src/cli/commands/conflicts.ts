import { Command } from 'commander';
import type { RepoConflicts } from '../../agents/index.js';
import type { RepoRecord } from '../../store/types.js';
import { clientFor } from '../context.js';
import { formatRows, print, printJson } from '../output.js';

function formatReport(report: RepoConflicts): string {
  const lines: string[] = [];
  if (report.pairs.length === 0 && report.base.length === 0) return `${report.repo}: no agents touch common paths`;
  if (report.pairs.length > 0) {
    lines.push(`${report.repo}: agents touching common paths`);
    const rows = report.pairs.map((p) => [`  ${p.agents[0]} + ${p.agents[1]}`, p.conflicts ? 'CONFLICT' : 'merges cleanly', p.paths.join(', ')]);
    lines.push(formatRows(rows));
  }
  for (const entry of report.base) lines.push(`${report.repo}: ${entry.agent} conflicts with its base in ${entry.paths.join(', ')}`);
  return lines.join('\n');
}

/** `mosaic conflicts [--repo R]`: the conflict radar (GET /repos/:name/conflicts). */
export function conflictsCommand(): Command {
  return new Command('conflicts')
    .description('which agents\' work touches common paths, and which would conflict (running agents included)')
    .option('--repo <name>', 'only this repository (default: every registered repository)')
    .option('--json', 'print {reports: [...]} as JSON')
    .action(async (opts: { repo?: string; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const names = opts.repo !== undefined ? [opts.repo]
        : (await client.get<{ repos: RepoRecord[] }>('/repos')).repos.map((r) => r.name);
      const reports: RepoConflicts[] = [];
      for (const name of names) reports.push(await client.get<RepoConflicts>(`/repos/${encodeURIComponent(name)}/conflicts`));
      if (opts.json) return printJson({ reports });
      if (reports.length === 0) return print('no repositories');
      print(reports.map(formatReport).join('\n'));
    });
}
