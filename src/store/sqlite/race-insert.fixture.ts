/**
 * Child process for the cross-process idempotency test: opens the store,
 * says "ready", and on a line from stdin inserts one agent per key (ids unique
 * to this process), printing one JSON line per key.
 */
import { openSqliteStore } from './index.js';
import { makeAgent } from '../../test-support/store-records.js';

const [file, name, keyCount] = process.argv.slice(2);
if (file === undefined || name === undefined || keyCount === undefined) throw new Error('usage: file name keyCount');
const store = openSqliteStore(file);
process.stdout.write('ready\n');
process.stdin.once('data', () => {
  const lines: string[] = [];
  for (let i = 0; i < Number(keyCount); i += 1) {
    const r = store.agents.insertSync(makeAgent({ id: `${name}-${i}`, idempotencyKey: `key-${i}` }));
    lines.push(JSON.stringify({ key: `key-${i}`, id: r.agent.id, created: r.created }));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  void store.close().then(() => process.exit(0));
});
