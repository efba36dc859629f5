import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb, launchChromium } from '../../test-support/browser.js';
import { startTestCluster, type TestCluster, type TestNode } from '../../test-support/cluster.js';
import { waitFor } from '../../test-support/wait.js';

/**
 * Issue 21, the dashboard of a cluster in Debian's Chromium: each agent's
 * node in the fleet list and on its page, and the Nodes view (state,
 * capacity, running, heartbeat) with drain and undrain, against two node
 * processes on one PostgreSQL database.
 */
describe('dashboard of a cluster in a real browser', { timeout: 120_000 }, () => {
  let c: TestCluster;
  let a: TestNode;
  let b: TestNode;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    buildWeb();
    [c, browser] = await Promise.all([startTestCluster(['a', 'b']), launchChromium()]);
    [a, b] = c.nodes as [TestNode, TestNode];
    page = await (await browser.newContext()).newPage();
    // Signed in on node a with a login code node b issued: one cluster, one set of admin tokens.
    const code = await fetch(`${a.url}/api/v1/dashboard/login-codes`, { method: 'POST', headers: { authorization: `Bearer ${b.adminToken}` } });
    expect(code.status).toBe(201);
    await page.goto(`${a.url}${((await code.json()) as { path: string }).path}`);
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await c?.stop();
  }, 60_000);

  it('shows each agent\'s node in the list and on its page', async () => {
    const gate = join(c.repo.dir, 'view-gate');
    const onB = await c.spawn(a, `while [ ! -f ${gate} ]; do sleep 0.05; done`, { node: 'b' });
    await c.waitState(onB.id, ['running']);
    const cell = page.locator(`tr[data-agent="${onB.id}"] td[data-label="Node"]`);
    await cell.waitFor();
    expect(await cell.textContent()).toBe('b');
    expect(await page.locator('thead th', { hasText: 'Node' }).count()).toBe(1);
    await page.goto(`${a.url}/#/agents/${onB.id}`);
    const field = page.locator('dl.fields div', { has: page.locator('dt', { hasText: /^Node$/ }) }).locator('dd');
    await field.waitFor();
    expect(await field.textContent()).toBe('b');
    writeFileSync(gate, '');
    await c.waitState(onB.id, ['completed']);
  });

  it('lists the nodes with state, capacity, running and heartbeat, and drains and undrains one', async () => {
    const gate = join(c.repo.dir, 'nodes-gate');
    const onB = await c.spawn(a, `while [ ! -f ${gate} ]; do sleep 0.05; done`, { node: 'b' });
    await c.waitState(onB.id, ['running']);
    await page.goto(`${a.url}/`);
    await page.getByRole('link', { name: 'Nodes' }).click();
    await page.getByRole('heading', { name: 'Nodes' }).waitFor();
    const rowOf = (name: string) => page.locator(`tr[data-node="${name}"]`);
    await rowOf('a').waitFor();
    expect(await page.locator('tbody tr').count()).toBe(2);
    expect(await rowOf('a').locator('td[data-label="State"]').textContent()).toBe('up');
    expect(await rowOf('b').locator('td[data-label="Capacity"]').textContent()).toBe('2');
    expect(await rowOf('a').locator('td[data-label="Heartbeat"]').textContent()).toMatch(/ago$/);
    // b's heartbeat reports its running agent; the view reads the nodes again every 5 s.
    await rowOf('b').locator('td[data-label="Running"][data-running="1"]').waitFor({ timeout: 20_000 });

    page.once('dialog', (dialog) => void dialog.accept());
    await rowOf('b').getByRole('button', { name: 'Drain' }).click();
    await rowOf('b').locator('td[data-label="State"]', { hasText: 'draining' }).waitFor();
    const drained = await a.api<{ nodes: { name: string; state: string }[] }>('GET', '/cluster');
    expect(drained.body.nodes.find((n) => n.name === 'b')?.state).toBe('draining');
    // The pinned agent keeps running on the draining node.
    expect((await c.agent(onB.id)).state).toBe('running');
    await rowOf('b').getByRole('button', { name: 'Undrain' }).click();
    await rowOf('b').locator('td[data-label="State"]', { hasText: 'up' }).waitFor();
    await waitFor(async () => ((await a.api<{ nodes: { name: string; state: string }[] }>('GET', '/cluster')).body.nodes.find((n) => n.name === 'b')?.state === 'up' ? true : undefined),
      { timeoutMs: 5000, what: 'b to be up again' });
    writeFileSync(gate, '');
    await c.waitState(onB.id, ['completed']);
  });
});
