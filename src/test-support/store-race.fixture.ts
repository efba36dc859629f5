/**
 * Child process for the store contract suite's cross-process cases: opens the
 * store at `target` (a SQLite file or a postgres:// URL), says "ready", and
 * on a line from stdin does its part of the race, printing one JSON line per
 * result:
 * - `insert`: inserts one agent per key (ids unique to this process);
 * - `transition`: tries to move each of agents `race-0..N-1` from queued to running;
 * - `append`: appends N events.
 * `open` only opens the store (migrating it) and exits.
 */
import { openStore } from '../store/index.js';
import { makeAgent } from './store-records.js';

const [target, name, mode, countText] = process.argv.slice(2);
if (target === undefined || name === undefined || mode === undefined || countText === undefined) {
  throw new Error('usage: target name insert|transition|append|open count');
}
const count = Number(countText);
const store = await openStore(target.startsWith('postgres') ? { databaseUrl: target, sqliteFile: '' } : { sqliteFile: target });
process.stdout.write('ready\n');
if (mode === 'open') {
  await store.close();
  process.exit(0);
}

async function race(): Promise<string[]> {
  const tasks = Array.from({ length: count }, async (_, i): Promise<string> => {
    if (mode === 'insert') {
      const r = await store.agents.insert(makeAgent({ id: `${name}-${i}`, idempotencyKey: `key-${i}` }));
      return JSON.stringify({ key: `key-${i}`, id: r.agent.id, created: r.created });
    }
    if (mode === 'transition') {
      const r = await store.agents.transition(`race-${i}`, ['queued'], 'running', { pid: process.pid });
      return JSON.stringify({ id: `race-${i}`, won: r !== undefined, seq: r?.event.seq ?? null });
    }
    const agent = makeAgent({ id: `${name}-ev` });
    const event = await store.events.append('agent.progress', agent.id, agent);
    return JSON.stringify({ seq: event.seq });
  });
  return Promise.all(tasks);
}

process.stdin.once('data', () => {
  race()
    .then((lines) => {
      process.stdout.write(`${lines.join('\n')}\n`);
      return store.close();
    })
    .then(() => process.exit(0), (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    });
});
