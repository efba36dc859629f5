import { describe, expect, it } from 'vitest';
import { MosaicError } from '../../core/errors.js';
import type { ClaudeRuntime } from '../types.js';
import { claudeInvocation, ROLE_PROMPTS } from './claude.js';

const opts = { claudeBin: '/usr/local/bin/claude', prompt: 'Fix the flaky test', type: 'worker' as const, projectConfig: true };

/** The value following `flag`, asserting it appears exactly once. */
function flag(argv: string[], name: string): string | undefined {
  const at = argv.flatMap((a, i) => (a === name ? [i] : []));
  expect(at.length).toBeLessThanOrEqual(1);
  return at[0] === undefined ? undefined : argv[at[0] + 1];
}

describe('claudeInvocation', () => {
  it('builds a headless stream-json worker invocation with the prompt last, after --', () => {
    const { argv } = claudeInvocation({ kind: 'claude', model: 'sonnet', maxTurns: 12, permissionMode: 'acceptEdits' }, opts);
    expect(argv.slice(0, 5)).toEqual(['/usr/local/bin/claude', '-p', '--output-format', 'stream-json', '--verbose']);
    expect(flag(argv, '--model')).toBe('sonnet');
    expect(flag(argv, '--max-turns')).toBe('12');
    expect(flag(argv, '--permission-mode')).toBe('acceptEdits');
    expect(flag(argv, '--append-system-prompt')).toBe(ROLE_PROMPTS.worker);
    expect(flag(argv, '--allowedTools')).toBe('Bash,Edit,Write,NotebookEdit,Read,Glob,Grep');
    expect(flag(argv, '--disallowedTools')).toBeUndefined();
    expect(flag(argv, '--tools')).toBeUndefined();
    expect(argv.slice(-2)).toEqual(['--', 'Fix the flaky test']);
  });

  it('without project config: user settings only, and an explicit empty MCP configuration', () => {
    const allowed = claudeInvocation({ kind: 'claude' }, opts).argv;
    for (const f of ['--setting-sources', '--strict-mcp-config', '--mcp-config']) expect(allowed).not.toContain(f);
    const { argv } = claudeInvocation({ kind: 'claude' }, { ...opts, projectConfig: false });
    expect(flag(argv, '--setting-sources')).toBe('user');
    expect(JSON.parse(flag(argv, '--settings') ?? 'null')).toEqual({ disableAllHooks: true });
    expect(argv).toContain('--strict-mcp-config');
    expect(JSON.parse(flag(argv, '--mcp-config') ?? 'null')).toEqual({ mcpServers: {} });
    expect(argv.indexOf('--mcp-config')).toBeLessThan(argv.indexOf('--'));
  });

  it('omits optional flags that were not asked for', () => {
    const { argv } = claudeInvocation({ kind: 'claude' }, opts);
    for (const f of ['--model', '--max-turns', '--permission-mode']) expect(argv).not.toContain(f);
  });

  it('gives a reviewer read-only tools and a review-as-result role', () => {
    const { argv } = claudeInvocation({ kind: 'claude' }, { ...opts, type: 'reviewer' });
    expect(flag(argv, '--tools')).toBe('Read,Glob,Grep');
    expect(flag(argv, '--allowedTools')).toBe('Read,Glob,Grep');
    expect(flag(argv, '--disallowedTools')?.split(',')).toEqual(expect.arrayContaining(['Edit', 'Write', 'Bash']));
    const role = flag(argv, '--append-system-prompt') ?? '';
    expect(role).toMatch(/do not modify/i);
    expect(role).toMatch(/final message/i);
  });

  it('gives a tester editing tools and a test-writing role', () => {
    const { argv } = claudeInvocation({ kind: 'claude' }, { ...opts, type: 'tester' });
    expect(flag(argv, '--allowedTools')).toContain('Bash');
    expect(flag(argv, '--append-system-prompt')).toMatch(/tests/);
  });

  it('keeps a prompt that looks like an option a prompt: it follows --', () => {
    const { argv } = claudeInvocation({ kind: 'claude' }, { ...opts, prompt: '--dangerously-skip-permissions' });
    expect(argv.indexOf('--dangerously-skip-permissions')).toBe(argv.indexOf('--') + 1);
    expect(argv.at(-1)).toBe('--dangerously-skip-permissions');
  });

  it('rejects invalid runtime options and prompts with a 400 naming the field', () => {
    const cases: [ClaudeRuntime, string][] = [
      [{ kind: 'claude', permissionMode: 'yolo' }, 'runtime.permissionMode'],
      [{ kind: 'claude', model: '--dangerously-skip-permissions' }, 'runtime.model'],
      [{ kind: 'claude', model: 'bad model' }, 'runtime.model'],
      [{ kind: 'claude', maxTurns: 0 }, 'runtime.maxTurns'],
      [{ kind: 'claude', maxTurns: 2.5 }, 'runtime.maxTurns'],
    ];
    for (const [runtime, field] of cases) {
      expect(() => claudeInvocation(runtime, opts)).toThrow(MosaicError);
      expect(() => claudeInvocation(runtime, opts)).toThrow(field);
    }
    expect(() => claudeInvocation({ kind: 'claude' }, { ...opts, prompt: '  ' })).toThrow('prompt');
    expect(() => claudeInvocation({ kind: 'claude' }, { ...opts, prompt: 'a\0b' })).toThrow('NUL');
    for (const mode of ['acceptEdits', 'auto', 'bypassPermissions', 'default', 'dontAsk', 'plan']) {
      expect(claudeInvocation({ kind: 'claude', permissionMode: mode }, opts).argv).toContain(mode);
    }
    expect(claudeInvocation({ kind: 'claude', model: 'claude-opus-4-8[1m]' }, opts).argv).toContain('claude-opus-4-8[1m]');
  });
});
