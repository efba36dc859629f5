import { describe, expect, it } from 'vitest';
import { assertBranchName, assertRefName, isValidBranchName, isValidRefName } from './refs.js';

describe('ref validation', () => {
  it('accepts ordinary branch and ref names', () => {
    for (const name of ['main', 'feature/x-1', 'agent-abc-task_1', 'v1.2.3', 'user@host', 'refs/heads/main', 'origin/main', 'HEAD', 'a'.repeat(40)]) {
      expect(isValidRefName(name), name).toBe(true);
    }
  });

  it('rejects anything git could read as an option or refuses as a ref', () => {
    for (const name of ['-b', '--upload-pack=x', '--', '', 'a..b', 'a b', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[', 'a\\b',
      '/a', 'a/', 'a//b', 'a.', '.a', 'a/.b', 'a.lock', 'a/b.lock/c', '@', 'a@{1}', 'tab\there', 'nl\n', 'x'.repeat(256), 'del\x7f']) {
      expect(isValidRefName(name), JSON.stringify(name)).toBe(false);
    }
    expect(isValidRefName(42)).toBe(false);
  });

  it('is stricter for new branch names', () => {
    expect(isValidBranchName('HEAD')).toBe(false);
    expect(isValidBranchName('refs/heads/x')).toBe(false);
    expect(isValidBranchName('agent-1')).toBe(true);
  });

  it('names the field in the error code', () => {
    expect(() => assertRefName('baseBranch', '--upload-pack=x')).toThrow(expect.objectContaining({ status: 400, code: 'invalid_base_branch' }));
    expect(() => assertBranchName('branch', '-b')).toThrow(expect.objectContaining({ code: 'invalid_branch' }));
  });
});
