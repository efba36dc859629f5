/**
 * Keyed FIFO mutex: tasks with the same key run one after another, tasks with
 * different keys run concurrently. Used to serialize git operations that take
 * repository-wide locks (worktree add/remove/prune) per repository.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

interface Waiter {
  exclusive: boolean;
  start: () => void;
}

interface KeyState {
  shared: number;
  exclusive: boolean;
  queue: Waiter[];
}

/**
 * Keyed readers-writer lock, FIFO: `shared` tasks of one key run together
 * (at most `maxShared` at a time), an `exclusive` one runs alone; a waiting
 * exclusive task holds back the shared ones queued after it, so neither side
 * starves. Different keys never wait for each other.
 */
export class KeyedRwLock {
  private readonly keys = new Map<string, KeyState>();

  constructor(private readonly maxShared = Number.POSITIVE_INFINITY) {}

  shared<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.run(key, false, task);
  }

  exclusive<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.run(key, true, task);
  }

  private run<T>(key: string, exclusive: boolean, task: () => Promise<T>): Promise<T> {
    let state = this.keys.get(key);
    if (!state) {
      state = { shared: 0, exclusive: false, queue: [] };
      this.keys.set(key, state);
    }
    const held = state;
    return new Promise<T>((resolve, reject) => {
      held.queue.push({
        exclusive,
        start: () => {
          void (async () => {
            try {
              resolve(await task());
            } catch (err) {
              reject(err);
            } finally {
              if (exclusive) held.exclusive = false;
              else held.shared -= 1;
              this.pump(key, held);
            }
          })();
        },
      });
      this.pump(key, held);
    });
  }

  private pump(key: string, state: KeyState): void {
    while (state.queue.length > 0 && !state.exclusive) {
      const next = state.queue[0] as Waiter;
      if (next.exclusive ? state.shared > 0 : state.shared >= this.maxShared) break;
      state.queue.shift();
      if (next.exclusive) state.exclusive = true;
      else state.shared += 1;
      next.start();
    }
    if (state.queue.length === 0 && state.shared === 0 && !state.exclusive && this.keys.get(key) === state) this.keys.delete(key);
  }
}
