/** Warm worktree pools (DESIGN §3 "Warm pools"); see README.md in this folder. */
export { poolConfigKey, WarmPool, type ObtainedWorktree, type PoolStatus, type WarmPoolOptions } from './warm-pool.js';

