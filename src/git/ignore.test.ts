import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestRepo, type TestRepo } from '../test-support/test-repo.js';
import { isIgnoredDir } from './ignore.js';

describe('isIgnoredDir', () => {
  let repo: TestRepo;
  beforeAll(() => {
    repo = makeTestRepo();
    repo.write('.gitignore', 'node_modules/\nvendor/\n*.log\n');
    repo.write('vendor/kept.txt', 'tracked although ignored\n');
    repo.git(['add', '-f', '.gitignore', 'vendor/kept.txt']);
    repo.git(['commit', '-qm', 'ignores']);
  });
  afterAll(() => repo.cleanup());

  it('is true for an ignored directory, present or not', async () => {
    expect(await isIgnoredDir(repo.path, 'node_modules')).toBe(true);
    expect(await isIgnoredDir(repo.path, 'node_modules/')).toBe(true);
  });

  it('is false for a directory git would commit, or one holding tracked files', async () => {
    expect(await isIgnoredDir(repo.path, 'build')).toBe(false);
    expect(await isIgnoredDir(repo.path, 'vendor')).toBe(false);
  });
});
