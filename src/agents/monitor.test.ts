import { describe, expect, it } from 'vitest';
import type { AgentContext } from './context.js';
import type { AgentFinisher } from './finisher.js';
import { AgentMonitor } from './monitor.js';

/**
 * A database outage makes every monitor pass fail. That is said once (and
 * then once a minute), not on every poll, and its end is said too. The store
 * is a stand-in here: the outage itself is exercised for real in
 * src/store/postgres outage tests; this checks only what gets logged.
 */
describe('AgentMonitor during a store outage', () => {
  it('logs the first failed pass, stays quiet on the next ones, and says when passes succeed again', async () => {
    const lines: { level: string; msg: string }[] = [];
    const log = (level: string) => (_obj: unknown, msg: string): void => void lines.push({ level, msg });
    let down = true;
    const ctx = {
      config: { pollMs: 1000, home: '/nonexistent' },
      store: { agents: { list: async () => { if (down) throw new Error('connection refused'); return []; } } },
      logger: { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') },
    } as unknown as AgentContext; // only what tick() reads
    const monitor = new AgentMonitor(ctx, {} as AgentFinisher, () => undefined);

    for (let i = 0; i < 5; i++) await monitor.tick();
    expect(lines).toEqual([{ level: 'error', msg: 'monitor pass failed' }]);

    down = false;
    await monitor.tick();
    await monitor.tick();
    expect(lines.map((l) => l.msg)).toEqual(['monitor pass failed', 'monitor passes succeed again']);

    down = true;
    await monitor.tick();
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(2); // a new outage is a new error
  });
});
