import type { Command } from 'commander';

/**
 * Shell completion scripts generated from the command tree itself, so every
 * verb and option (including those other modules add) is completed without
 * a list kept by hand. Completion is static: no call to the server.
 */

interface Node {
  /** Space-separated command path: '' for the program, 'agents spawn' for a verb. */
  path: string;
  subcommands: string[];
  options: string[];
}

export function commandTree(program: Command): Node[] {
  const nodes: Node[] = [];
  const walk = (command: Command, path: string) => {
    const subcommands = command.commands.flatMap((sub) => [sub.name(), ...sub.aliases()]);
    const options = [...command.options.flatMap((o) => [o.long, o.short]), '--help'].filter((o): o is string => typeof o === 'string');
    nodes.push({ path, subcommands, options });
    for (const sub of command.commands) {
      for (const name of [sub.name(), ...sub.aliases()]) walk(sub, path ? `${path} ${name}` : name);
    }
  };
  walk(program, '');
  return nodes;
}

const words = (node: Node): string => [...node.subcommands, ...node.options].join(' ');

export function bashCompletion(program: Command): string {
  const nodes = commandTree(program);
  const known = `|${nodes.map((n) => n.path).filter(Boolean).join('|')}|`;
  const cases = nodes.map((n) => `    '${n.path}') words='${words(n)}' ;;`).join('\n');
  return `# mosaic completion for bash: eval "$(mosaic completion bash)" (e.g. in ~/.bashrc)
_mosaic_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" word i words
  local known='${known}'
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    # Only words that extend a known command path count; option values do not.
    if [[ "$known" == *"|\${path:+$path }$word|"* ]]; then path="\${path:+$path }$word"; fi
  done
  case "$path" in
${cases}
    *) words='' ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _mosaic_complete mosaic
`;
}

export function zshCompletion(program: Command): string {
  return `# mosaic completion for zsh: eval "$(mosaic completion zsh)" (e.g. in ~/.zshrc)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program).split('\n').slice(1).join('\n')}`;
}

export function fishCompletion(program: Command): string {
  const nodes = commandTree(program);
  const lines = ['# mosaic completion for fish: mosaic completion fish > ~/.config/fish/completions/mosaic.fish', 'complete -c mosaic -f'];
  for (const node of nodes) {
    const parts = node.path === '' ? [] : node.path.split(' ');
    // fish sees the command path as "these words were seen" (and, at the top, "no verb yet").
    const seen = parts.map((part) => `__fish_seen_subcommand_from ${part}`);
    const condition = node.path === '' ? '__fish_use_subcommand' : seen.join('; and ');
    const notDeeper = node.subcommands.length > 0 && node.path !== '' ? `; and not __fish_seen_subcommand_from ${node.subcommands.join(' ')}` : '';
    if (node.subcommands.length > 0) lines.push(`complete -c mosaic -n '${condition}${notDeeper}' -a '${node.subcommands.join(' ')}'`);
    for (const option of node.options) {
      const flag = option.startsWith('--') ? `-l ${option.slice(2)}` : `-s ${option.slice(1)}`;
      lines.push(`complete -c mosaic -n '${condition}${notDeeper}' ${flag}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
