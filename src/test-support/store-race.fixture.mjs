/**
 * Child process for the store contract suite's cross-process cases: opens the
 * store at `target` (a SQLite file or a postgres:// URL), says "ready", and
 * on a line from stdin does its part of the race, printing one JSON line per
 * result:
 * - `insert`: inserts each of `records` (ids unique to this process, one per idempotency key);
 * - `transition`: tries to move each of agents `race-0..N-1` from queued to running;
 * - `append`: appends N events for `records[0]`.
 * `open` only opens the store (migrating it) and exits.
 *
 * Plain JavaScript so that it starts without a TypeScript loader (tsx costs
 * about a second of CPU per process): `storeModule` is the fresh build's
 * dist/store/index.js, or src/store/index.ts when the parent runs it under
 * tsx. The parent makes the agent records (test-support/store-records.ts).
 */
const [storeModule, target, name, mode, countText, recordsJson = '[]'] = process.argv.slice(2);
if (storeModule === undefined || target === undefined || name === undefined || mode === undefined || countText === undefined) {
  throw new Error('usage: storeModule target name insert|transition|append|open count [recordsJson]');
}
const count = Number(countText);
const records = JSON.parse(recordsJson);
const { openStore } = await import(storeModule);
const store = await openStore(target.startsWith('postgres') ? { databaseUrl: target, sqliteFile: '' } : { sqliteFile: target });
process.stdout.write('ready\n');
if (mode === 'open') {
  await store.close();
  process.exit(0);
}

async function race() {
  const tasks = Array.from({ length: count }, async (_, i) => {
    if (mode === 'insert') {
      const record = records[i];
      const r = await store.agents.insert(record);
      return JSON.stringify({ key: record.idempotencyKey, id: r.agent.id, created: r.created });
    }
    if (mode === 'transition') {
      const r = await store.agents.transition(`race-${i}`, ['queued'], 'running', { pid: process.pid });
      return JSON.stringify({ id: `race-${i}`, won: r !== undefined, seq: r?.event.seq ?? null });
    }
    const event = await store.events.append('agent.progress', records[0].id, records[0]);
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
    .then(() => process.exit(0), (err) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    });
});
