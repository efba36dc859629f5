import { rmSync } from 'node:fs';
import type { RepoRecord } from '../../store/types.js';
import type { AgentContext } from '../context.js';
import { agentEnvironment } from '../runtimes/index.js';
import { sandboxForAgent } from '../sandbox/index.js';
import { runSetup } from '../setup.js';
import { overlaysOf, poolLayersRoot } from '../share/index.js';
import type { Entry } from './entries.js';
import { poolLogPath, poolSetupMarker, setupBoxPath, setupPidPath } from './markers.js';

/**
 * Runs the repository's setup in a pooled worktree under the same rules as
 * an agent's setup: the same scrubbed environment and, where agents are
 * sandboxed, the same sandbox (its private directory lives beside the
 * marker and goes once the setup is done; a setup's commits, which would
 * land in the private git dir, are not kept: a pooled worktree has no work).
 */
export async function runPoolSetup(ctx: AgentContext, repo: RepoRecord, entry: Entry, priority: number): Promise<void> {
  if (!repo.setup) return;
  const { config, logger } = ctx;
  const env = agentEnvironment(process.env, {
    agentId: poolSetupMarker(entry.id), taskId: 'pool', prompt: 'pool', port: 0, type: 'worker', userEnv: {}, forward: config.forwardEnv,
  });
  const boxParent = setupBoxPath(config.home, repo.name, entry.id);
  const sandbox = await sandboxForAgent({
    config, origin: 'local', agentDir: boxParent, worktree: entry.path,
    repoPaths: (await ctx.store.repos.list()).map((r) => r.path),
    network: repo.network === 'none' ? 'none' : 'host',
    programs: repo.setup[0] ? [repo.setup[0]] : [], runtimeProgram: repo.setup[0], path: env.PATH, claudeLogin: false,
    overlays: overlaysOf(poolLayersRoot(config.home, repo.name, entry.id), entry.path),
    onUnsandboxed: (reason) => logger.warn({ repo: repo.name, reason }, 'pool: setup runs unsandboxed (MOSAIC_SANDBOX=auto)'),
  });
  if (sandbox) env.TMPDIR = '/tmp';
  try {
    const setupArgv = sandbox ? sandbox.wrap(repo.setup) : repo.setup;
    if (sandbox) logger.debug({ repo: repo.name, argv: setupArgv }, 'pool: setup runs sandboxed');
    const result = await runSetup(setupArgv, entry.path, env, poolLogPath(config.home, repo.name, entry.id), {
      shown: repo.setup,
      ...(entry.abort ? { signal: entry.abort.signal } : {}),
      pidFile: setupPidPath(config.home, repo.name, entry.id),
      priority,
    });
    if (!result.ok) throw new Error(`setup failed: ${result.message}`);
  } finally {
    rmSync(boxParent, { recursive: true, force: true, maxRetries: 3 });
  }
}
