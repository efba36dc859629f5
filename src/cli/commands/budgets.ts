import { Command, InvalidArgumentError, Option } from 'commander';
import type { BudgetStatus } from '../../fleet/index.js';
import { clientFor } from '../context.js';
import { formatTable, print, printJson } from '../output.js';
import { usd } from '../options.js';

interface JsonOption {
  json?: boolean;
}

/** `instance`, `repo:<name>` or `peer:<name>` (the server checks the name). */
function scopeArg(value: string): string {
  if (value === 'instance' || /^(repo|peer):.+/.test(value)) return value;
  throw new InvalidArgumentError('a scope is instance, repo:<name> or peer:<name>.');
}

const money = (n: number): string => `$${n.toFixed(n !== 0 && n < 1 ? 4 : 2)}`;

/** "14:05" today, else "Dec 7 00:00" (local time, as the dashboard shows it). */
export function formatResetTime(at: number, now = Date.now()): string {
  const d = new Date(at);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  if (new Date(now).toDateString() === d.toDateString()) return hm;
  return `${d.toLocaleString('en-US', { month: 'short' })} ${d.getDate()} ${hm}`;
}

function listCommand(): Command {
  return new Command('list')
    .description('fleet budgets: spent and left in the current window, when it resets')
    .option('--json', 'print {budgets} as JSON')
    .action(async (opts: JsonOption, command: Command) => {
      const { budgets } = await clientFor(command).get<{ budgets: BudgetStatus[] }>('/budgets');
      if (opts.json) return printJson({ budgets });
      if (budgets.length === 0) return print('no budgets (mosaic budgets set instance --usd 50 --per day)');
      print(formatTable(['SCOPE', 'BUDGET', 'SPENT', 'LEFT', 'RESETS', 'WHEN SPENT'], budgets.map((b) => [
        b.scope + (b.fromGrant ? ' (grant)' : ''), `${money(b.usd)}/${b.per}`, money(b.spentUsd), money(b.leftUsd), formatResetTime(b.resetsAt),
        b.onExhausted === 'kill' ? 'queue + kill running' : 'queue',
      ])));
    });
}

function setCommand(): Command {
  return new Command('set')
    .description('set a scope\'s budget (raising a spent one starts its waiting agents)')
    .argument('<scope>', 'instance, repo:<name> or peer:<name>', scopeArg)
    .requiredOption('--usd <usd>', 'USD per window', usd())
    .addOption(new Option('--per <window>', 'UTC day, week (from Monday) or calendar month').choices(['day', 'week', 'month']).makeOptionMandatory())
    .addOption(new Option('--on-exhausted <action>', 'queue: new spawns wait; kill: running agents are killed too').choices(['queue', 'kill']).default('queue'))
    .option('--json', 'print the budget as JSON')
    .action(async (scope: string, opts: JsonOption & { usd: number; per: string; onExhausted: string }, command: Command) => {
      const { body } = await clientFor(command).request<BudgetStatus>('PUT', `/budgets/${encodeURIComponent(scope)}`, {
        body: { usd: opts.usd, per: opts.per, onExhausted: opts.onExhausted },
      });
      if (opts.json) return printJson(body);
      print(`${body.scope}: ${money(body.usd)} per ${body.per}, ${money(body.spentUsd)} spent, ${money(body.leftUsd)} left until ${formatResetTime(body.resetsAt)}`
        + (body.onExhausted === 'kill' ? ' (when spent, running agents are killed)' : ''));
    });
}

function removeCommand(): Command {
  return new Command('remove')
    .description('remove a scope\'s budget (its waiting agents may start)')
    .argument('<scope>', 'instance, repo:<name> or peer:<name>', scopeArg)
    .action(async (scope: string, _opts: unknown, command: Command) => {
      await clientFor(command).request('DELETE', `/budgets/${encodeURIComponent(scope)}`);
      print(`removed the budget of ${scope}`);
    });
}

/** `mosaic budgets list|set|remove`: fleet budgets (PUT/GET/DELETE /api/v1/budgets). */
export function budgetsCommand(): Command {
  return new Command('budgets')
    .description('fleet budgets: USD per day, week or month for the instance, a repository or a peer')
    .addCommand(listCommand()).addCommand(setCommand()).addCommand(removeCommand());
}
