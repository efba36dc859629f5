import { Command, Argument } from 'commander';
import { bashCompletion, fishCompletion, zshCompletion } from '../completion.js';

/** `mosaic completion bash|zsh|fish`: prints a completion script for the whole command tree. */
export function completionCommand(program: () => Command): Command {
  return new Command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .addHelpText('after', `
Install:
  bash  eval "$(mosaic completion bash)"            (in ~/.bashrc)
  zsh   eval "$(mosaic completion zsh)"             (in ~/.zshrc)
  fish  mosaic completion fish > ~/.config/fish/completions/mosaic.fish`)
    .action((shell: 'bash' | 'zsh' | 'fish') => {
      const root = program();
      const script = shell === 'bash' ? bashCompletion(root) : shell === 'zsh' ? zshCompletion(root) : fishCompletion(root);
      process.stdout.write(script);
    });
}
