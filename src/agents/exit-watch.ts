import { existsSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { EXIT_FILE } from './supervisor/index.js';

/**
 * Notices a running agent's end as it happens: an inotify watch on each
 * running agent's directory fires when its supervisor renames the exit record
 * into place, and the monitor makes a pass at once instead of at its next
 * poll (`MOSAIC_POLL_MS`, 200 ms by default: up to that much on every
 * agent's end, and `--follow` waiting for it). The poll stays what decides:
 * a watch that cannot be made (no inotify, the watch limit reached, the
 * directory gone) or an event missed changes only the delay.
 */
export class ExitWatch {
  private readonly watchers = new Map<string, FSWatcher>();

  constructor(private readonly onExit: () => void) {}

  /** Watches `dir` for agent `id`'s exit record (no-op when already watched); an exit already recorded fires at once. */
  add(id: string, dir: string): void {
    if (this.watchers.has(id)) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (name === EXIT_FILE) this.onExit();
      });
    } catch {
      return; // ENOSPC, EMFILE, ENOENT: the poll finds this one
    }
    watcher.on('error', () => this.remove(id));
    this.watchers.set(id, watcher);
    // Written before the watch existed (an agent that ends within milliseconds): no event will come.
    if (existsSync(join(dir, EXIT_FILE))) this.onExit();
  }

  /** Keeps the watches of these agents only. */
  retain(ids: ReadonlySet<string>): void {
    for (const id of [...this.watchers.keys()]) if (!ids.has(id)) this.remove(id);
  }

  close(): void {
    for (const id of [...this.watchers.keys()]) this.remove(id);
  }

  get size(): number {
    return this.watchers.size;
  }

  private remove(id: string): void {
    this.watchers.get(id)?.close();
    this.watchers.delete(id);
  }
}
