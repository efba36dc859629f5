import { describe, expect, it } from 'vitest';
import { MosaicError } from '../../core/errors.js';
import { agentEnvironment, MAX_ARG_BYTES } from './environment.js';

const base: NodeJS.ProcessEnv = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/u',
  USER: 'u',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  TERM: 'xterm',
  TMPDIR: '/tmp',
  HTTPS_PROXY: 'http://proxy:3128',
  MOSAIC_ADMIN_TOKEN: 'admin-secret',
  MOSAIC_HOME: '/home/u/.mosaic',
  MOSAIC_PORT: '7420',
  FOO_TOKEN: 'foo-secret',
  GITHUB_TOKEN: 'gh-secret',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  ANTHROPIC_API_KEY: 'sk-ant',
  DB_PASSWORD: 'pw',
  NODE_OPTIONS: '--inspect',
  GIT_DIR: '/elsewhere/.git',
  npm_lifecycle_event: 'start',
  RANDOM_THING: 'x',
  PORT: '3000',
};
const extra = { agentId: 'abcdefghij', taskId: 'task-1', prompt: 'fix the bug', port: 41234, type: 'worker' as const };

function rejects(fn: () => unknown, code: string, mention: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MosaicError);
    expect((err as MosaicError).status).toBe(400);
    expect((err as MosaicError).code).toBe(code);
    expect((err as MosaicError).message).toContain(mention);
    return;
  }
  throw new Error('expected a MosaicError');
}

describe('agentEnvironment', () => {
  it('keeps only the allowlist from the server, then adds the Mosaic variables', () => {
    const env = agentEnvironment(base, extra);
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/u',
      USER: 'u',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      TERM: 'xterm',
      TMPDIR: '/tmp',
      HTTPS_PROXY: 'http://proxy:3128',
      MOSAIC_AGENT_ID: 'abcdefghij',
      MOSAIC_TASK_ID: 'task-1',
      MOSAIC_PROMPT: 'fix the bug',
      MOSAIC_AGENT_TYPE: 'worker',
      PORT: '41234',
      MOSAIC_AGENT_PORT: '41234',
    });
    const values = Object.values(env).join('\n');
    for (const secret of ['admin-secret', 'foo-secret', 'gh-secret', 'aws-secret', 'sk-ant', 'pw']) {
      expect(values).not.toContain(secret);
    }
  });

  it('lets the user pass secrets and override allowlisted values explicitly', () => {
    const env = agentEnvironment(base, { ...extra, type: 'tester', userEnv: { FOO_TOKEN: 'mine', PATH: '/opt/bin', NODE_OPTIONS: '--max-old-space-size=4096' } });
    expect(env.FOO_TOKEN).toBe('mine');
    expect(env.PATH).toBe('/opt/bin');
    expect(env.NODE_OPTIONS).toBe('--max-old-space-size=4096');
    expect(env.MOSAIC_AGENT_TYPE).toBe('tester');
    expect(env.MOSAIC_ADMIN_TOKEN).toBeUndefined();
  });

  it('forwards operator-chosen names, but never MOSAIC_* or PORT', () => {
    const env = agentEnvironment(base, { ...extra, forward: ['ANTHROPIC_API_KEY', 'MOSAIC_ADMIN_TOKEN', 'PORT', 'UNSET_NAME'] });
    expect(env.ANTHROPIC_API_KEY).toBe('sk-ant');
    expect(env.MOSAIC_ADMIN_TOKEN).toBeUndefined();
    expect(env.PORT).toBe('41234');
    expect('UNSET_NAME' in env).toBe(false);
  });

  it('rejects reserved, malformed and NUL-carrying user variables, naming the key', () => {
    rejects(() => agentEnvironment(base, { ...extra, userEnv: { MOSAIC_AGENT_ID: 'x' } }), 'invalid_env', 'MOSAIC_AGENT_ID');
    rejects(() => agentEnvironment(base, { ...extra, userEnv: { mosaic_home: 'x' } }), 'invalid_env', 'mosaic_home');
    rejects(() => agentEnvironment(base, { ...extra, userEnv: { PORT: '1' } }), 'invalid_env', 'PORT');
    rejects(() => agentEnvironment(base, { ...extra, userEnv: { '1BAD': 'x' } }), 'invalid_env', '1BAD');
    rejects(() => agentEnvironment(base, { ...extra, userEnv: { 'A=B': 'x' } }), 'invalid_env', 'A=B');
    rejects(() => agentEnvironment(base, { ...extra, userEnv: { GOOD: 'a\0b' } }), 'invalid_env', 'GOOD');
    rejects(() => agentEnvironment(base, { ...extra, userEnv: { NUM: 5 as unknown as string } }), 'invalid_env', 'NUM');
    rejects(() => agentEnvironment(base, { ...extra, userEnv: { BIG: 'x'.repeat(MAX_ARG_BYTES) } }), 'invalid_env', 'BIG');
  });

  it('rejects a prompt too large to exec and a bad port', () => {
    rejects(() => agentEnvironment(base, { ...extra, prompt: 'p'.repeat(MAX_ARG_BYTES) }), 'invalid_prompt', 'prompt');
    expect(agentEnvironment(base, { ...extra, prompt: 'p'.repeat(100_000) }).MOSAIC_PROMPT).toHaveLength(100_000);
    rejects(() => agentEnvironment(base, { ...extra, port: 70000 }), 'invalid_port', '70000');
    // Port 0 is allowed so requests can be validated before a port is reserved.
    expect(agentEnvironment({}, { ...extra, prompt: '', port: 0 }).PORT).toBe('0');
  });
});
