import { Command } from 'commander';
import type { ReconcileReport, WorktreeView } from '../../agents/index.js';
import { EXIT_FAILURE } from '../client.js';
import { clientFor } from '../context.js';
import { dash, formatTable, print, printJson } from '../output.js';

function worktreeTable(worktrees: readonly WorktreeView[]): string {
  return formatTable(
    ['REPO', 'AGENT', 'BRANCH', 'ORPHAN', 'PATH'],
    worktrees.map((w) => [w.repo, w.pooled ? '(pool)' : dash(w.agentId), dash(w.branch), w.broken !== undefined ? 'broken' : w.orphan ? 'yes' : 'no', w.path]),
  );
}

export function worktreesCommand(): Command {
  const worktrees = new Command('worktrees').description('the git worktrees Mosaic manages');

  worktrees.command('list')
    .alias('ls')
    .description('list managed worktrees and the agents that own them')
    .option('--json', 'print {worktrees: [...]} as JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const result = await clientFor(command).get<{ worktrees: WorktreeView[] }>('/worktrees');
      if (opts.json) return printJson(result);
      if (result.worktrees.length === 0) return print('no managed worktrees');
      print(worktreeTable(result.worktrees));
    });

  worktrees.command('reconcile')
    .description('snapshot and remove worktrees no live agent owns, then prune (exit 1 on errors)')
    .option('--json', 'print {removed, kept, errors} as JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const report = await clientFor(command).post<ReconcileReport>('/worktrees/reconcile');
      if (opts.json) printJson(report);
      else {
        print(`removed ${report.removed.length}, kept ${report.kept.length}, errors ${report.errors.length}`);
        if (report.removed.length > 0) print(`\nremoved (changes kept as snapshot commits on their branches):\n${worktreeTable(report.removed)}`);
        for (const error of report.errors) print(`error: ${error.path}: ${error.message}`);
      }
      if (report.errors.length > 0) process.exitCode = EXIT_FAILURE;
    });

  return worktrees;
}
