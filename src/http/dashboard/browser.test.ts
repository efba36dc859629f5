import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type Browser, type BrowserContext, type Dialog, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { runCli } from '../../test-support/cli.js';
import type { AgentRecord } from '../../core/agent-model.js';
import { newAgentId } from '../../core/ids.js';
import { spawnCommand, waitForState } from '../../test-support/agents.js';
import { spawnRemote, startPair, TEST_GRANTS, type Pair } from '../../test-support/federation.js';
import { git, makeTempRepo, type TempDir } from '../../test-support/git-fixtures.js';
import { buildWeb, launchChromium } from '../../test-support/browser.js';
import { startCuttableProxy } from '../../test-support/cuttable-proxy.js';
import { FAKE_CLAUDE_BIN } from '../../test-support/index.js';
import { waitFor } from '../../test-support/wait.js';

/**
 * Issue 11 end to end: the built dashboard in Debian's Chromium (never a
 * downloaded browser) against real instances on loopback.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WEB_DIST = join(ROOT, 'web', 'dist');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'dashboard');
/** The page's JavaScript, gzipped, must stay under this. */
const BUNDLE_BUDGET_BYTES = 150 * 1024;
const FLOOD = 500;

/** The little of the DOM the in-page functions below use (this file compiles without the DOM library). */
interface PageElement { textContent: string | null; getAttribute(name: string): string | null }
interface PageGlobals {
  document: {
    querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
    documentElement: { scrollWidth: number };
    activeElement: PageElement | null;
  };
  innerWidth: number;
  longTasks: number[];
}

let pair: Pair;
let local: TempDir;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const metrics: Record<string, number> = {};
const cleanups: (() => void)[] = [];


const shot = (p: Page, name: string) => p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const row = (p: Page, id: string) => p.locator(`tr[data-agent="${id}"]`);
const stateBadge = (p: Page, state: string) => p.locator('.title-row .state', { hasText: state });

/** A finished agent like `template` (a real record, so new record fields come along), for the 500-agent fleet. */
function floodRecord(template: AgentRecord, i: number): AgentRecord {
  const now = Date.now() - i * 1000;
  const state = (['completed', 'failed', 'killed'] as const)[i % 3]!;
  const id = newAgentId();
  return {
    ...template,
    id, state, taskId: `flood-${i}`, branch: `mosaic/flood-${i}/${id}`, worktreePath: join(local.path, '..', `gone-${id}`),
    idempotencyKey: null, pid: null, pgid: null, port: null, exitCode: state === 'completed' ? 0 : 1,
    error: null, result: { turns: i % 7, costUsd: i / 1000 }, progress: null, killRequested: state === 'killed',
    createdAt: now, startedAt: now, endedAt: now + 500, updatedAt: now + 500,
  };
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  buildWeb();
  // Instances read the built page when they start: build first.
  // The hub runs Claude Code agents with the fake `claude`, which prints real stream-json.
  // fedStaleS: a silent peer's agents are marked stale after 2 s (the stale-mark test).
  pair = await startPair({ hubConfig: { claudeBin: FAKE_CLAUDE_BIN, fedStaleS: 2 } });
  local = await makeTempRepo();
  const added = await pair.hub.api('POST', '/repos', { name: 'app', path: local.path });
  if (added.status !== 201) throw new Error(`repos add answered ${added.status}`);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await pair?.stop();
  local?.cleanup();
  cleanups.forEach((cleanup) => cleanup());
  if (Object.keys(metrics).length > 0) writeFileSync(join(ARTIFACTS, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
}, 60_000);

// Generous per-test bounds: the full suite shares two cores with Chromium and several instances.
describe('dashboard in a real browser', { timeout: 120_000 }, () => {
  it(`ships a JavaScript bundle under ${BUNDLE_BUDGET_BYTES / 1024} KB gzipped`, () => {
    const assets = join(WEB_DIST, 'assets');
    const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(0);
    const gzipped = js.reduce((sum, f) => sum + gzipSync(readFileSync(join(assets, f)), { level: 9 }).length, 0);
    metrics.bundleGzipBytes = gzipped;
    console.log(`dashboard JS: ${js.length} file(s), ${gzipped} bytes gzipped (budget ${BUNDLE_BUDGET_BYTES})`);
    expect(gzipped).toBeLessThan(BUNDLE_BUDGET_BYTES);
    // Nothing from elsewhere: no absolute URLs to other hosts in the page or its code.
    const html = readFileSync(join(WEB_DIST, 'index.html'), 'utf8');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
  });

  it('signs in through the URL `mosaic dashboard` prints, once, and shows the existing agents', async () => {
    const existing = await spawnCommand(pair.hub, 'echo before > before.txt && git add before.txt && git commit -qm before', { taskId: 'existing' });
    await waitForState(pair.hub, existing.id, ['completed'], 60_000); // a loaded 2-core machine: agents have taken 7 s to start

    const cli = await runCli(['dashboard'], { MOSAIC_HOME: pair.hub.home, MOSAIC_URL: pair.hub.url });
    expect(cli.code, cli.stderr).toBe(0);
    const url = cli.stdout.trim().split('\n').at(-1)!;
    expect(url).toMatch(new RegExp(`^${pair.hub.url}/login\\?code=[A-Za-z0-9_-]+$`));

    await page.goto(url);
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    expect(page.url()).toBe(`${pair.hub.url}/`); // the code left the address bar
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'mosaic_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await row(page, existing.id).waitFor();
    expect(await row(page, existing.id).innerText()).toContain('completed');
    await shot(page, 'fleet');

    // The same URL a second time, in another browser: refused, the page says why and offers the token form.
    const other = await browser.newContext();
    const second = await other.newPage();
    await second.goto(url);
    await second.getByRole('alert').filter({ hasText: 'already used' }).waitFor();
    await second.getByLabel('Admin token').waitFor();
    expect(second.url()).toBe(`${pair.hub.url}/`);
    expect(await other.cookies()).toEqual([]);
    await shot(second, 'login');
    await other.close();
  });

  it('shows an agent running on the federated peer', async () => {
    const remote = await spawnRemote(pair.hub, 'sleep 30');
    expect(remote.status).toBe(202);
    const remoteRow = row(page, remote.body.id);
    await remoteRow.waitFor();
    expect(await remoteRow.locator('td[data-label="Instance"]').innerText()).toBe('spoke');
    await page.selectOption('label:has-text("Instance") select', 'spoke');
    await page.waitForFunction(() => [...(globalThis as unknown as PageGlobals).document.querySelectorAll('tbody tr td[data-label="Instance"]')].every((td) => td.textContent === 'spoke'));
    await page.selectOption('label:has-text("Instance") select', '');
    expect((await pair.hub.api('POST', `/agents/${remote.body.id}/kill`)).status).toBe(202);
    await row(page, remote.body.id).filter({ hasText: 'killed' }).waitFor({ timeout: 30_000 });
  });

  it('kills a remote agent from its page and fetches its work here (the actions of a local agent)', async () => {
    // The hub's own clone of the spoke's repository, under the same name: fetched work lands there.
    const hubWeb = mkdtempSync(join(tmpdir(), 'mosaic-hub-web-'));
    cleanups.push(() => rmSync(hubWeb, { recursive: true, force: true }));
    execFileSync('git', ['clone', '-q', pair.repo.path, join(hubWeb, 'web')]);
    expect((await pair.hub.api('POST', '/repos', { name: 'web', path: join(hubWeb, 'web') })).status).toBe(201);
    const remote = await spawnRemote(pair.hub, 'echo far > far.txt && git add far.txt && git commit -qm far && echo committed && sleep 60', { taskId: 'far' });
    expect(remote.status).toBe(202);
    await page.goto(`${pair.hub.url}/#/agents/${remote.body.id}`);
    await stateBadge(page, 'running').waitFor({ timeout: 30_000 });
    await page.locator('.log-raw', { hasText: 'committed' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Kill' }).click();
    await stateBadge(page, 'killed').waitFor({ timeout: 30_000 });
    expect((await pair.spoke.api<PublicAgent>('GET', `/agents/${remote.body.id}`)).body.state).toBe('killed');
    // Finished: what a remote agent offers (retry runs on the instance that spawned it, so not here).
    for (const name of ['Land', 'Reply', 'Fetch', 'Discard']) await page.getByRole('button', { name, exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    // Not granted yet: the page says so as the hub reads it, and what to do.
    await page.getByRole('button', { name: 'Fetch' }).click();
    const notice = page.locator('.notice', { hasText: /^Fetch/ });
    await notice.waitFor({ timeout: 60_000 });
    expect(await notice.innerText()).toBe("Fetch failed: spoke has not granted this instance agent.bundle; its admin changes that with 'mosaic peers grant <this instance's name there> --commands …' on spoke");
    expect((await pair.spoke.api('PATCH', '/federation/connections/hub', { grants: { commands: [...TEST_GRANTS.commands, 'agent.bundle'] } })).status).toBe(200);
    await page.getByRole('button', { name: 'Fetch' }).click();
    await page.locator('.notice', { hasText: /^Fetch: done/ }).waitFor({ timeout: 60_000 });
    const branch = git(join(hubWeb, 'web'), 'for-each-ref', '--format=%(refname:short)', 'refs/heads/').split('\n').find((b) => b.includes(remote.body.id));
    expect(branch).toBeDefined();
    expect(git(join(hubWeb, 'web'), 'show', `${branch}:far.txt`)).toBe('far');
    await shot(page, 'agent-remote-fetched');
  });

  it('Review lists finished agents with diff stat, commits and radar status, and lands one from there', async () => {
    const [one, two] = await Promise.all(['one', 'two'].map((v) =>
      spawnCommand(pair.hub, `echo ${v} > review.txt && git add review.txt && git commit -qm ${v}`, { taskId: `review-${v}` })));
    await Promise.all([one!, two!].map((a) => waitForState(pair.hub, a.id, ['completed'], 60_000)));
    const views = page.getByRole('navigation', { name: 'Views' });
    await views.getByRole('link', { name: 'Review' }).click();
    await page.getByRole('heading', { name: 'Review' }).waitFor();
    const reviewRow = (id: string) => page.locator(`table.review tr[data-agent="${id}"]`);
    const first = reviewRow(one!.id);
    await first.locator('td[data-label="Changes"]', { hasText: '1 file +1 −0' }).waitFor();
    expect(await first.locator('td[data-label="Commits"]').innerText()).toBe('1');
    // The radar: the two change the same file differently.
    await first.locator('td[data-label="Radar"]', { hasText: `conflicts with ${two!.id}` }).waitFor({ timeout: 30_000 });
    await reviewRow(two!.id).locator('td[data-label="Radar"]', { hasText: `conflicts with ${one!.id}` }).waitFor();
    // Newest first (by when they ended), and nothing landed or still running is listed.
    const listed = await page.locator('table.review tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-agent') ?? ''));
    const { body } = await pair.hub.api<{ agents: PublicAgent[] }>('GET', '/agents?scope=all');
    const expected = body.agents.filter((a) => ['completed', 'failed', 'killed'].includes(a.state) && !a.landed)
      .sort((a, b) => (b.endedAt ?? b.createdAt) - (a.endedAt ?? a.createdAt)).map((a) => a.id);
    expect(listed).toEqual(expected);
    await shot(page, 'review');

    await first.getByRole('button', { name: 'Land' }).click();
    await page.getByRole('status').filter({ hasText: 'Land: done.' }).waitFor();
    await first.waitFor({ state: 'detached' });
    expect(git(local.path, 'show', 'main:review.txt')).toBe('one');
    // The other one now conflicts with the moved base, live.
    await reviewRow(two!.id).locator('td[data-label="Radar"]', { hasText: 'conflicts with its base' }).waitFor({ timeout: 30_000 });
    // Landed is marked in the fleet, and the landed agent's page offers no Land.
    await views.getByRole('link', { name: 'Fleet' }).click();
    await row(page, one!.id).locator('.landed').waitFor();
    await page.goto(`${pair.hub.url}/#/agents/${one!.id}`);
    await page.locator('.title-row .landed').waitFor();
    expect(await page.getByRole('button', { name: 'Land' }).count()).toBe(0);
  });

  it('spawns through the form (API errors next to their fields), follows the agent to completed live, shows logs and diff, lands it', async () => {
    await page.getByRole('link', { name: 'Spawn', exact: true }).click();
    // An empty form says everything that is missing at once, before asking the instance.
    await page.getByRole('button', { name: 'Spawn' }).click();
    for (const field of ['repo', 'taskId', 'prompt']) await page.locator(`#${field}-error`).waitFor();
    expect(await page.getByLabel('Prompt').getAttribute('aria-invalid')).toBe('true');
    // The repository is chosen among the registered ones.
    expect(await page.getByLabel('Repository').locator('option').allInnerTexts()).toContain('app');
    await page.getByLabel('Repository').selectOption('app');
    await page.getByLabel('Task id').fill('bad id');
    await page.getByLabel('Prompt').fill('write b.txt');
    await page.getByLabel('Runtime').selectOption('command');
    await page.getByRole('button', { name: 'Spawn' }).click();
    expect(await page.locator('#runtime-error').innerText()).toContain('Give the command to run');
    // One line, split as a shell would (quotes honoured), shown back as argv before it is sent.
    const script = 'echo "working <img src=x onerror=window.pwned=1>"; sleep 2; echo done > b.txt; git add b.txt; git commit -qm b; echo finished';
    await page.getByLabel('Command', { exact: true }).fill(`sh -c '${script}'`);
    const args = page.getByRole('list', { name: 'Arguments' }).locator('li');
    await args.first().waitFor();
    expect(await args.allInnerTexts()).toEqual(['sh', '-c', script]);
    // The advanced form holds the same arguments, one per line.
    await page.getByLabel('One argument per line (advanced)').check();
    expect(await page.getByLabel('Command, one argument per line').inputValue()).toBe(`sh\n-c\n${script}`);
    await page.getByLabel('One argument per line (advanced)').uncheck();
    expect(await args.allInnerTexts()).toEqual(['sh', '-c', script]);
    await page.getByRole('button', { name: 'Spawn' }).click();
    const taskError = page.locator('#taskId-error');
    await taskError.waitFor();
    expect(await taskError.innerText()).toContain('taskId');
    expect(await page.getByLabel('Task id').getAttribute('aria-invalid')).toBe('true');
    await shot(page, 'spawn-error');

    await page.getByLabel('Task id').fill('T2');
    await page.getByRole('button', { name: 'Spawn' }).click();
    await page.waitForURL(/#\/agents\/[a-z0-9]+$/);
    const id = decodeURIComponent(page.url().split('/').at(-1)!);
    expect((await pair.hub.api<PublicAgent>('GET', `/agents/${id}`)).body.runtime).toEqual({ kind: 'command', argv: ['sh', '-c', script] });
    await stateBadge(page, 'running').waitFor();
    await page.locator('.log-raw', { hasText: 'working' }).waitFor();
    // Agent output is text, never markup.
    expect(await page.locator('.log-raw', { hasText: 'working' }).innerText()).toBe('working <img src=x onerror=window.pwned=1>');
    expect(await page.locator('.log-items img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
    // Live: no reload between running and completed.
    await stateBadge(page, 'completed').waitFor({ timeout: 30_000 });
    await page.locator('.log-raw', { hasText: 'finished' }).waitFor();
    await page.getByText('The agent has ended').waitFor();
    await shot(page, 'agent-logs');

    await page.getByRole('link', { name: 'Diff' }).click();
    await page.getByRole('list', { name: 'Changed files' }).getByText('b.txt').waitFor();
    expect((await page.locator('.line-add').allInnerTexts()).map((text) => text.trim())).toContain('+done');
    await shot(page, 'agent-diff');
    expect((await pair.hub.api<PublicAgent>('GET', `/agents/${id}`)).body.state).toBe('completed');

    // Land: the agent's commit reaches the repository's main branch.
    await page.getByRole('button', { name: 'Land' }).click();
    await page.getByRole('status').filter({ hasText: 'Land: done.' }).waitFor();
    await page.locator('.fields div', { hasText: 'Landed' }).filter({ hasText: 'into main (merge)' }).waitFor();
    expect(git(local.path, 'show', 'main:b.txt')).toBe('done');
  });

  it('shows a new agent in the fleet live, and renders Claude Code\'s stream-json for people', async () => {
    await page.goto(`${pair.hub.url}/`);
    await page.getByRole('status').filter({ hasText: 'live' }).waitFor();
    const started = Date.now();
    const claude = await pair.hub.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId: 'claude-task', prompt: 'write the file' });
    expect(claude.status).toBe(202);
    await row(page, claude.body.id).waitFor();
    metrics.newAgentVisibleMs = Date.now() - started;
    await row(page, claude.body.id).filter({ hasText: 'completed' }).waitFor({ timeout: 30_000 });
    expect(await row(page, claude.body.id).locator('td[data-label="Progress"]').innerText()).toMatch(/2 turns \$0\.0123/);

    await row(page, claude.body.id).getByRole('link').click();
    await page.locator('.log-final').waitFor();
    expect(await page.locator('.log-system').first().innerText()).toContain('session started');
    expect(await page.locator('.log-text').first().innerText()).toContain('I will create FAKE_CLAUDE.md');
    const tool = await page.locator('.log-tool').first().innerText();
    expect(tool).toContain('Write');
    expect(tool).toContain('FAKE_CLAUDE.md');
    // Tool results are folded until opened.
    const result = page.locator('details.log-result').first();
    expect(await result.getAttribute('open')).toBeNull();
    await result.locator('summary').click();
    expect(await result.getAttribute('open')).not.toBeNull();
    const final = await page.locator('.log-final').innerText();
    expect(final).toContain('Created FAKE_CLAUDE.md and committed it.');
    expect(final).toContain('$0.0123');
    expect(final).toContain('2 turns');
    await shot(page, 'agent-claude-logs');
  });

  it('kills a running agent with the Kill button, and retries it with Retry', async () => {
    const victim = await spawnCommand(pair.hub, 'sleep 60', { taskId: 'victim' });
    await waitForState(pair.hub, victim.id, ['running']);
    await page.goto(`${pair.hub.url}/#/agents/${victim.id}`);
    await stateBadge(page, 'running').waitFor();
    await page.getByRole('button', { name: 'Kill' }).click();
    await stateBadge(page, 'killed').waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: 'Kill' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Discard' }).waitFor();
    await shot(page, 'agent-killed');

    // Retry starts a new agent with the same request and shows it.
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.waitForURL((url) => url.hash.startsWith('#/agents/') && !url.hash.endsWith(victim.id));
    const retried = decodeURIComponent(page.url().split('/').at(-1)!);
    await page.locator('.fields div', { hasText: 'Retry of' }).filter({ hasText: victim.id }).waitFor();
    expect((await pair.hub.api('POST', `/agents/${retried}/kill`)).status).toBe(202);
    await stateBadge(page, 'killed').waitFor({ timeout: 30_000 });
  });

  it('shows repositories with the conflict radar, and peers with grants both ways and the message log', async () => {
    // Two finished agents that changed the same file differently: the radar says they would conflict.
    const [left, right] = await Promise.all(['left', 'right'].map((side) =>
      spawnCommand(pair.hub, `echo ${side} > c.txt && git add c.txt && git commit -qm ${side}`, { taskId: side })));
    // 60 s: on a loaded 2-core machine an agent has taken 7 s just to start.
    await Promise.all([left!, right!].map((a) => waitForState(pair.hub, a.id, ['completed'], 60_000)));
    // A repository with a warm pool shows what the pool holds.
    const pooled = await makeTempRepo();
    cleanups.push(() => pooled.cleanup());
    expect((await pair.hub.api('POST', '/repos', { name: 'pooled', path: pooled.path, poolSize: 1 })).status).toBe(201);
    await waitFor(async () => (await pair.hub.api<{ pool?: { ready: number } }>('GET', '/repos/pooled')).body.pool?.ready === 1, { what: 'the pool to fill', timeoutMs: 30_000 });
    await page.getByRole('link', { name: 'Repositories' }).click();
    await page.getByRole('cell', { name: 'app', exact: true }).waitFor();
    await page.locator('tr', { hasText: 'pooled' }).locator('td[data-label="Pool"]', { hasText: '1 ready of 1' }).waitFor();
    const clash = page.locator('.conflicts li', { hasText: 'would conflict' });
    await clash.waitFor();
    const clashText = await clash.innerText();
    expect(clashText).toContain(left!.id);
    expect(clashText).toContain(right!.id);
    expect(clashText).toContain('c.txt');
    await shot(page, 'repos');

    // Discard asks first, and again when the agent has commits that were never landed.
    const dialogs: string[] = [];
    const accept = (dialog: Dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    };
    page.on('dialog', accept);
    await page.goto(`${pair.hub.url}/#/agents/${left!.id}`);
    await page.getByRole('button', { name: 'Discard' }).click();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    page.off('dialog', accept);
    expect(dialogs).toHaveLength(2);
    expect(dialogs[1]).toContain('1 commit');
    expect((await pair.hub.api('GET', `/agents/${left!.id}`)).status).toBe(404);
    await page.getByRole('link', { name: 'Repositories' }).click();
    await page.getByRole('link', { name: 'Peers' }).click();
    const peerRow = page.locator('table.peers tbody tr', { hasText: 'spoke' });
    await peerRow.waitFor();
    expect(await peerRow.locator('td[data-label="State"]').innerText()).toBe('active');
    expect(await peerRow.locator('td[data-label="May do there"]').innerText()).toContain('web');
    await page.locator('table.messages tbody tr').first().waitFor();
    await page.getByLabel('Repositories it may use (comma-separated, * for all)').fill('app');
    await page.getByRole('button', { name: 'Create invite' }).click();
    await page.locator('code.token').waitFor();
    await shot(page, 'peers');
  });

  it('at 390 px wide and in dark mode, the fleet is still usable', async () => {
    const narrow = await context.newPage();
    await narrow.setViewportSize({ width: 390, height: 844 });
    await narrow.emulateMedia({ colorScheme: 'dark' });
    await narrow.goto(`${pair.hub.url}/`);
    await narrow.locator('tbody tr').first().waitFor();
    const overflow = await narrow.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      return g.document.documentElement.scrollWidth - g.innerWidth;
    });
    expect(overflow).toBeLessThanOrEqual(1);
    // Keyboard: Tab reaches the navigation.
    await narrow.keyboard.press('Tab');
    await narrow.keyboard.press('Tab');
    expect(await narrow.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.textContent)).toBe('Fleet');
    await shot(narrow, 'fleet-390-dark');
    await narrow.close();
  });

  it('refuses every API call from a page without a session, and a cross-origin POST with the cookie', async () => {
    const anonymous = await browser.newContext();
    const bare = await anonymous.newPage();
    await bare.goto(`${pair.hub.url}/`);
    await bare.getByLabel('Admin token').waitFor();
    const statuses = await bare.evaluate(async () => {
      const calls: [string, string][] = [['GET', 'agents?scope=all'], ['GET', 'repos'], ['GET', 'events'], ['GET', 'federation/connections'],
        ['GET', 'federation/messages'], ['POST', 'agents/kill-all'], ['POST', 'agents'], ['POST', 'federation/invites'], ['POST', 'dashboard/login-codes']];
      return Promise.all(calls.map(async ([method, path]) => (await fetch(`/api/v1/${path}`, { method, headers: { 'x-mosaic-request': '1' } })).status));
    });
    expect(statuses).toEqual(statuses.map(() => 401));
    await anonymous.close();

    const victim = await spawnCommand(pair.hub, 'sleep 60', { taskId: 'csrf-victim' });
    // The signed-in browser's cookie, sent from another origin: refused.
    const forged = await context.request.post(`${pair.hub.url}/api/v1/agents/${victim.id}/kill`, {
      headers: { origin: 'http://evil.example', 'x-mosaic-request': '1' },
    });
    expect(forged.status()).toBe(403);
    expect((await forged.json() as { error: { code: string } }).error.code).toBe('cross_origin_refused');
    // A real page on another origin (localhost is another site than 127.0.0.1) posting to the instance.
    const evil = await context.newPage();
    await evil.goto(pair.hub.url.replace('127.0.0.1', 'localhost'));
    await evil.evaluate(async (target) => {
      await fetch(target, { method: 'POST', mode: 'no-cors', credentials: 'include' }).catch(() => undefined);
      await fetch(target, { method: 'POST', credentials: 'include', headers: { 'x-mosaic-request': '1' } }).catch(() => undefined);
    }, `${pair.hub.url}/api/v1/agents/${victim.id}/kill`);
    await evil.close();
    const after = (await pair.hub.api<PublicAgent>('GET', `/agents/${victim.id}`)).body;
    expect(after.killRequested).toBe(false);
    expect(['queued', 'spawning', 'running']).toContain(after.state);
    await pair.hub.api('POST', `/agents/${victim.id}/kill`);
    await waitForState(pair.hub, victim.id, ['killed']);
  });

  it('resumes the event stream after it drops, from the last event it saw', async () => {
    const proxy = await startCuttableProxy(pair.hub.url);
    const viaProxy = await context.newPage();
    try {
      // Cookies are per host, not per port: the session works through the proxy's port too.
      await viaProxy.goto(`${proxy.url}/`);
      await viaProxy.getByRole('status').filter({ hasText: 'live' }).waitFor();
      await viaProxy.locator('tbody tr').first().waitFor();
      // An event through the stream first, so the browser has an id to resume from.
      const before = await spawnCommand(pair.hub, 'true', { taskId: 'before-cut' });
      await row(viaProxy, before.id).filter({ hasText: 'completed' }).waitFor({ timeout: 30_000 });
      proxy.cut();
      const spawned = await spawnCommand(pair.hub, 'true', { taskId: 'while-cut' });
      await waitForState(pair.hub, spawned.id, ['completed'], 60_000);
      // The page fetched the list once, at start, and has seen events since: only the resumed stream can bring this agent.
      await row(viaProxy, spawned.id).filter({ hasText: 'completed' }).waitFor({ timeout: 30_000 });
      // The browser reconnected by itself and told the server where it was: `Last-Event-ID: <seq>`.
      const streams = proxy.requests.filter((head) => head.startsWith('GET /api/v1/events'));
      expect(streams.length).toBeGreaterThanOrEqual(2);
      const resumedAt = Number(/^last-event-id:\s*(\d+)\s*$/im.exec(streams.at(-1)!)?.[1] ?? 0);
      expect(resumedAt).toBeGreaterThan(0);
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it(`renders ${FLOOD} agents without freezing`, async () => {
    const template = (await pair.hub.store.agents.list({ state: 'completed' }))[0];
    if (!template) throw new Error('no finished agent to copy');
    for (let i = 0; i < FLOOD; i += 1) await pair.hub.store.agents.insert(floodRecord(template, i));
    const fresh = await context.newPage();
    // Records every task that blocked the page's main thread for over 50 ms (the browser's "long task").
    await fresh.addInitScript({
      content: 'window.longTasks = []; new PerformanceObserver((list) => list.getEntries().forEach((e) => window.longTasks.push(e.duration))).observe({ type: "longtask", buffered: true });',
    });
    await fresh.goto(`${pair.hub.url}/`);
    await fresh.waitForFunction((n) => (globalThis as unknown as PageGlobals).document.querySelectorAll('tbody tr').length >= n, FLOOD, { timeout: 60_000 });
    const { renderedAtMs, longestTaskMs } = await fresh.evaluate(() => ({
      renderedAtMs: performance.now(),
      longestTaskMs: Math.max(0, ...(globalThis as unknown as PageGlobals).longTasks),
    }));
    // Still responsive: a filter change re-renders promptly.
    const started = Date.now();
    await fresh.selectOption('label:has-text("State") select', 'failed');
    await fresh.waitForFunction(() => [...(globalThis as unknown as PageGlobals).document.querySelectorAll('tbody tr')].every((tr) => tr.getAttribute('data-state') === 'failed'));
    const filterMs = Date.now() - started;
    Object.assign(metrics, { floodAgents: FLOOD, floodRenderedAtMs: Math.round(renderedAtMs), floodLongestTaskMs: Math.round(longestTaskMs), floodFilterMs: filterMs });
    console.log(`fleet with ${FLOOD}+ agents: rendered ${Math.round(renderedAtMs)} ms after navigation, longest task ${Math.round(longestTaskMs)} ms, filter ${filterMs} ms`);
    expect(await fresh.locator('strong[data-count="failed"]').innerText()).toBe(String(Math.floor((FLOOD + 1) / 3)));
    // Generous bounds for a loaded 2-core machine: "not frozen", not a speed claim.
    expect(renderedAtMs).toBeLessThan(15_000);
    expect(longestTaskMs).toBeLessThan(5_000);
    expect(filterMs).toBeLessThan(10_000);
    await fresh.close();
  });

  it('marks a remote agent stale once its peer stops answering, without any event to say so', async () => {
    const remote = await spawnRemote(pair.hub, 'sleep 20');
    expect(remote.status).toBe(202);
    await page.goto(`${pair.hub.url}/`);
    const remoteRow = row(page, remote.body.id);
    await remoteRow.filter({ hasText: 'running' }).waitFor({ timeout: 30_000 });
    expect(await remoteRow.locator('.stale').count()).toBe(0);
    // The spoke goes away (its agent keeps running there): only the page's periodic refresh can show it.
    const spokeHome = pair.spoke.home;
    await pair.spoke.stop(true);
    cleanups.push(() => rmSync(spokeHome, { recursive: true, force: true }));
    const mark = remoteRow.locator('.stale');
    await mark.waitFor({ timeout: 45_000 });
    expect(await mark.getAttribute('title')).toMatch(/^May be out of date: spoke (unreachable for|silent)/);
    await shot(page, 'fleet-stale');
  });

  it('signs out: the session ends on the server, and the page asks for sign-in again', async () => {
    await page.goto(`${pair.hub.url}/`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    expect((await context.request.get(`${pair.hub.url}/api/v1/agents`)).status()).toBe(401);
    // The pasted-token form signs in again.
    await page.getByLabel('Admin token').fill(pair.hub.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    expect((await context.request.get(`${pair.hub.url}/api/v1/agents`)).status()).toBe(200);
  });
});
