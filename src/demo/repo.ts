import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The small project the demo's agents work on: a few files, one commit on `main`. */
const FILES: Record<string, string> = {
  'README.md': '# web\n\nA tiny web app the Mosaic demo agents work on.\n',
  'src/server.js': [
    "import { createServer } from 'node:http';",
    '',
    "const port = Number(process.env.PORT ?? 3000);",
    "createServer((req, res) => res.end('hello\\n')).listen(port);",
    '',
  ].join('\n'),
  'src/routes.js': "export const routes = ['/'];\n",
  '.gitignore': 'node_modules/\n',
};

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Creates the repository at `path`. Its git identity is set in the
 * repository's own config (worktrees share it, so agents can commit), never
 * globally; signing is off so a developer's global config cannot interfere.
 */
export function makeDemoRepo(path: string): void {
  for (const [file, text] of Object.entries(FILES)) {
    mkdirSync(dirname(join(path, file)), { recursive: true });
    writeFileSync(join(path, file), text);
  }
  git(path, 'init', '-q', '-b', 'main');
  git(path, 'config', 'user.name', 'Mosaic Demo');
  git(path, 'config', 'user.email', 'demo@mosaic.invalid');
  git(path, 'config', 'commit.gpgsign', 'false');
  git(path, 'add', '.');
  git(path, 'commit', '-q', '-m', 'initial commit');
}
