import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentLanding, FetchResult, PublicAgent } from '../../agents/index.js';
import { git, waitForState } from '../../test-support/agents.js';
import { spawnRemote, startPair, TEST_GRANTS, type Pair } from '../../test-support/federation.js';
import { makeTempDir, makeTempRepo, type TempDir } from '../../test-support/git-fixtures.js';
import type { SseEvent } from '../../cli/client.js';
import { readSse } from '../../test-support/sse.js';

type ApiError = { error: { code: string } };

/** Issue 8, must-hold 6: a remote agent's work comes home as a verified git bundle, capped, with its base checked. */
describe('remote work comes home', () => {
  let pair: Pair;
  let hubDir: TempDir;
  let hubRepo: string;
  let unrelated: TempDir;

  beforeAll(async () => {
    pair = await startPair({
      grants: { ...TEST_GRANTS, commands: [...TEST_GRANTS.commands, 'agent.bundle'] },
      spokeConfig: { bundleMaxBytes: 64 * 1024 },
    });
    // The hub's own clone of the repository, registered under the same name.
    hubDir = makeTempDir('mosaic-hub-repo-');
    hubRepo = join(hubDir.path, 'web');
    execFileSync('git', ['clone', '-q', pair.repo.path, hubRepo]);
    git(hubRepo, 'config', 'user.name', 'Hub User');
    git(hubRepo, 'config', 'user.email', 'hub@example.invalid');
    expect((await pair.hub.api('POST', '/repos', { name: 'web', path: hubRepo })).status).toBe(201);
    unrelated = await makeTempRepo();
    expect((await pair.hub.api('POST', '/repos', { name: 'other', path: unrelated.path })).status).toBe(201);
  });
  afterAll(async () => {
    await pair.stop();
    hubDir.cleanup();
    unrelated.cleanup();
  });

  const remoteDone = async (script: string, taskId: string): Promise<PublicAgent> => {
    const res = await spawnRemote(pair.hub, script, { taskId });
    expect(res.status).toBe(202);
    const agent = await waitForState(pair.hub, res.body.id);
    expect(agent.state).toBe('completed');
    return agent;
  };

  it('fetches a remote agent\'s branch into the hub\'s repository and lands it there', async () => {
    const agent = await remoteDone('echo from-the-spoke > remote.txt && git add . && git commit -qm "remote work"', 'fetch-me');
    expect(git(hubRepo, 'branch', '--list', agent.branch)).toBe('');
    const res = await pair.hub.api<FetchResult>('POST', `/agents/${agent.id}/fetch`, {});
    expect(res.status).toBe(200);
    const spokeHead = git(pair.repo.path, 'rev-parse', agent.branch);
    expect(res.body.fetched).toEqual({ repo: 'web', branch: agent.branch, commit: spokeHead });
    expect(git(hubRepo, 'rev-parse', agent.branch)).toBe(spokeHead);
    expect(git(hubRepo, 'show', `${agent.branch}:remote.txt`)).toBe('from-the-spoke');

    const landed = await pair.hub.api<{ agent: PublicAgent; landed: AgentLanding }>('POST', `/agents/${agent.id}/land`, { strategy: 'squash' });
    expect(landed.status).toBe(200);
    expect(git(hubRepo, 'rev-parse', 'main')).toBe(landed.body.landed.commit);
    expect(readFileSync(join(hubRepo, 'remote.txt'), 'utf8')).toBe('from-the-spoke\n');
    expect(git(hubRepo, 'status', '--porcelain')).toBe('');
  });

  it('land of a remote agent fetches first', async () => {
    const agent = await remoteDone('echo second > second.txt && git add . && git commit -qm second', 'land-direct');
    const landed = await pair.hub.api<{ landed: AgentLanding }>('POST', `/agents/${agent.id}/land`, {});
    expect(landed.status).toBe(200);
    expect(git(hubRepo, 'rev-parse', agent.branch)).toBe(git(pair.repo.path, 'rev-parse', agent.branch));
    expect(existsSync(join(hubRepo, 'second.txt'))).toBe(true);

    // The hub keeps the landing with its mirror of the agent (the record lives on the spoke): it reads landed
    // afterwards, in the list too, and /events carried an agent.landed for it.
    const shown = await pair.hub.api<PublicAgent>('GET', `/agents/${agent.id}`);
    expect(shown.body.landed).toEqual(landed.body.landed);
    const listed = await pair.hub.api<{ agents: PublicAgent[] }>('GET', '/agents?scope=all');
    expect(listed.body.agents.find((a) => a.id === agent.id)?.landed).toEqual(landed.body.landed);
    const landedEvents = (seen: SseEvent[]) => seen.filter((e) => e.event === 'agent.landed' && (JSON.parse(e.data) as PublicAgent).id === agent.id);
    const { events } = await readSse(pair.hub, '/events', (seen) => landedEvents(seen).length >= 1, { timeoutMs: 10_000 });
    expect(landedEvents(events)).toHaveLength(1);
    expect((JSON.parse(landedEvents(events)[0]!.data) as PublicAgent).landed).toEqual(landed.body.landed);
  });

  it('base_missing when the hub lacks the base commit; bundle_too_large over the cap; nothing written', async () => {
    const agent = await remoteDone('echo x > x.txt && git add . && git commit -qm x', 'no-base');
    const refsBefore = git(unrelated.path, 'for-each-ref');
    const missing = await pair.hub.api<ApiError>('POST', `/agents/${agent.id}/fetch`, { repo: 'other' });
    expect(missing.status).toBe(409);
    expect(missing.body.error.code).toBe('base_missing');
    expect(git(unrelated.path, 'for-each-ref')).toBe(refsBefore);

    // 256 KiB of random bytes cannot compress under the spoke's 64 KiB cap.
    const big = await remoteDone('head -c 262144 /dev/urandom > big.bin && git add . && git commit -qm big', 'too-big');
    const hubRefs = git(hubRepo, 'for-each-ref');
    const tooLarge = await pair.hub.api<ApiError>('POST', `/agents/${big.id}/fetch`, {});
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error.code).toBe('bundle_too_large');
    expect(git(hubRepo, 'for-each-ref')).toBe(hubRefs);
    expect((await pair.hub.api<ApiError>('POST', `/agents/${big.id}/land`, {})).body.error.code).toBe('bundle_too_large');
    expect(git(hubRepo, 'for-each-ref')).toBe(hubRefs);
  });
});

describe('bundles larger than one ordinary federation message', () => {
  let pair: Pair;
  let hubDir: TempDir;

  beforeAll(async () => {
    pair = await startPair({ grants: { ...TEST_GRANTS, commands: [...TEST_GRANTS.commands, 'agent.bundle'] } });
    hubDir = makeTempDir('mosaic-hub-repo-');
    execFileSync('git', ['clone', '-q', pair.repo.path, join(hubDir.path, 'web')]);
    expect((await pair.hub.api('POST', '/repos', { name: 'web', path: join(hubDir.path, 'web') })).status).toBe(201);
  });
  afterAll(async () => {
    await pair.stop();
    hubDir.cleanup();
  });

  it('carries a 1.5 MiB bundle (over the 1 MiB message limit, under MOSAIC_BUNDLE_MAX_BYTES)', async () => {
    const res = await spawnRemote(pair.hub, 'head -c 1572864 /dev/urandom > big.bin && git add . && git commit -qm big', { taskId: 'big-ok' });
    const agent = await waitForState(pair.hub, res.body.id);
    expect(agent.state).toBe('completed');
    const fetched = await pair.hub.api<FetchResult>('POST', `/agents/${agent.id}/fetch`, {});
    expect(fetched.status).toBe(200);
    expect(git(join(hubDir.path, 'web'), 'cat-file', '-s', `${agent.branch}:big.bin`)).toBe('1572864');
  });
});
