import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { managedRoot } from '../git/index.js';
import { isMosaicError, messageOf } from '../core/errors.js';
import { agentDir, agentLogPath, type AgentContext } from './context.js';
import type { AgentFinisher } from './finisher.js';
import type { WarmPool } from './pool/index.js';
import { agentEnvironment, allowsProjectConfig, reservePort, runtimeBins, runtimeOf } from './runtimes/index.js';
import { runPreflight } from './runtimes/preflight.js';
import { runSetup, SETUP_PID_FILE } from './setup.js';
import { launchSupervisor, prestartSupervisor, type PrestartedSupervisor } from './supervisor/index.js';
import { sandboxForAgent, type PreparedSandbox } from './sandbox/index.js';
import { agentLayersRoot, overlaysOf } from './share/index.js';
import type { AgentRecord, AgentTimings } from './types.js';
import type { RepoRecord } from '../store/types.js';

/**
 * Takes a queued agent to running: worktree, copied files, setup, a reserved
 * port, then the detached supervisor. A failure at any step ends the agent
 * `failed` through the finisher (which snapshots whatever the worktree holds);
 * a kill asked for meanwhile ends it `killed`.
 */
export class AgentLauncher {
  /** Ports handed out but not yet recorded on a running agent. */
  private readonly pendingPorts = new Set<number>();
  /** Setups running now, by agent id, so a kill can stop them at once. */
  private readonly setups = new Map<string, AbortController>();

  constructor(
    private readonly ctx: AgentContext,
    private readonly finisher: AgentFinisher,
    private readonly pool: WarmPool,
    /** Called once an agent runs (the monitor watches for its exit record). */
    private readonly onRunning: (agentId: string) => void = () => {},
  ) {}

  /** Runs the launch of an agent the scheduler has just moved to `spawning`. */
  async launch(queued: AgentRecord): Promise<void> {
    let agent = queued;
    const { ctx } = this;
    let port: number | null = null;
    /** The supervisor started while the sandbox is prepared; cancelled unless the launch hands it the spec. */
    let prestarted: PrestartedSupervisor | null = null;
    // Where its time goes (issue 24): phases back to back from createdAt, kept on the record as they end.
    const launchStart = Date.now();
    const timings: AgentTimings = { queued: Math.max(0, launchStart - agent.createdAt) };
    let mark = launchStart;
    const lap = (): number => {
      const now = Date.now();
      const ms = now - mark;
      mark = now;
      return ms;
    };
    const keepTimings = async (): Promise<void> => {
      await ctx.store.agents.update(agent.id, { timings }).catch(() => undefined);
    };
    try {
      const repo = await ctx.store.repos.get(agent.repo);
      if (!repo) throw Object.assign(new Error(`repository ${agent.repo} is no longer registered`), { code: 'repo_missing' });
      const dir = agentDir(ctx.config, agent.id);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (repo.url) {
        // Shared by URL: this node's clone, fetched now (a failure ends the agent `repo_fetch_failed`), and the
        // worktree under it (the node that took the spawn request computed the path under its own clone).
        // A retry --continue or follow-up starts from a commit the old agent's node pushed: the fetch brings it.
        // (Its time counts in the worktree phase.)
        await ctx.remotes.sync(repo);
        const here = join(managedRoot(repo.path), agent.branch);
        if (agent.worktreePath !== here) agent = (await ctx.store.agents.update(agent.id, { worktreePath: here })) ?? { ...agent, worktreePath: here };
      }

      // A ready worktree from the repository's warm pool, or a new one (with copyFiles and shareDirs).
      const worktree = await this.pool.obtain(repo, agent);
      const obtained = lap();
      timings[worktree.pooled ? 'pool' : 'worktree'] = Math.max(0, obtained - worktree.copyMs);
      timings.copy = Math.min(obtained, worktree.copyMs);
      if (await this.killedMeanwhile(agent.id, timings)) return;
      // Node's start-up of the supervisor (~100 ms) runs beside the sandbox's preparation rather than after it.
      // Not when a setup comes first: it may take minutes, and the supervisor would only wait.
      const setupPending = Boolean(repo.setup && repo.setup.length > 0 && !worktree.setupDone);
      if (!setupPending) prestarted = prestartSupervisor(agent.id, dir);

      port = await this.takePort();
      const env = agentEnvironment(process.env, {
        agentId: agent.id, taskId: agent.taskId, prompt: agent.prompt, port, type: agent.type, userEnv: agent.env,
        forward: ctx.config.forwardEnv,
      });
      const runtime = runtimeOf(agent.runtime);
      const bins = runtimeBins(ctx.config);
      const { argv, env: runtimeEnv } = runtime.invocation(agent.runtime, {
        bins, prompt: agent.prompt, type: agent.type, shell: agent.limits?.shell ?? true,
        projectConfig: allowsProjectConfig(agent, repo), budgetUsd: agent.budgetUsd,
      });
      Object.assign(env, runtimeEnv);
      // A runtime that would hang rather than fail (codex offline without a login) is checked first, bounded.
      const preflight = runtime.preflight?.(bins, env) ?? null;
      if (preflight !== null) {
        const refused = await runPreflight(preflight, agent.worktreePath, env);
        if (refused !== null) {
          await this.finisher.finish(agent.id, { kind: 'failed', error: refused });
          return;
        }
      }
      const sandbox = await this.sandboxFor(agent, repo, dir, argv, env);
      timings.sandbox = lap();
      timings.setup = 0;
      if (repo.setup && repo.setup.length > 0 && !worktree.setupDone) {
        const abort = new AbortController();
        this.setups.set(agent.id, abort);
        if ((await ctx.store.agents.get(agent.id))?.killRequested) abort.abort(); // a kill that came before the map knew it
        const setupArgv = sandbox ? sandbox.wrap(repo.setup) : repo.setup;
        if (sandbox) ctx.logger.debug({ agentId: agent.id, argv: setupArgv }, 'setup runs sandboxed');
        const setup = await runSetup(setupArgv, agent.worktreePath, env, agentLogPath(ctx.config, agent.id), {
          signal: abort.signal, pidFile: join(dir, SETUP_PID_FILE), shown: repo.setup,
        }).finally(() => this.setups.delete(agent.id));
        timings.setup = lap();
        if (await this.killedMeanwhile(agent.id, timings)) return;
        if (!setup.ok) {
          await keepTimings();
          await this.finisher.finish(agent.id, { kind: 'failed', error: { code: 'setup_failed', message: setup.message } });
          return;
        }
      }

      const launched = await launchSupervisor({
        agentId: agent.id,
        argv: sandbox ? sandbox.wrap(argv) : argv,
        sandboxed: sandbox !== null,
        cwd: agent.worktreePath,
        env,
        agentDir: dir,
        timeoutMs: agent.timeoutS === null ? null : agent.timeoutS * 1000,
        killGraceMs: ctx.config.killGraceMs,
        ...(runtime.stream() !== null ? { firstEventMs: ctx.config.runtimeFirstEventS * 1000 } : {}),
      }, { prestarted });
      prestarted = null; // handed over (or cancelled there and replaced)
      if (launched.exit && launched.pgid === null) {
        await keepTimings();
        await this.finisher.finishFromExit(agent.id, launched.exit);
        return;
      }
      const running = await ctx.recorder.transition(agent.id, ['spawning'], 'running', {
        pid: launched.supervisorPid, pgid: launched.pgid, port, startedAt: Date.now(), timings,
      });
      if (running) this.onRunning(agent.id);
      // A kill that arrived during the launch finds the agent still `spawning`; honour it now.
      if (running?.killRequested || (!running && (await ctx.store.agents.get(agent.id))?.killRequested)) {
        this.finisher.signalKill(agent.id, launched.supervisorPid, launched.pgid);
      }
    } catch (err) {
      ctx.logger.warn({ agentId: agent.id, err: messageOf(err) }, 'agent launch failed');
      const code = isMosaicError(err) ? err.code : (err as { code?: unknown }).code;
      await keepTimings();
      await this.finisher.finish(agent.id, {
        kind: 'failed',
        error: { code: typeof code === 'string' ? code : 'spawn_failed', message: messageOf(err) },
      });
    } finally {
      prestarted?.cancel();
      if (port !== null) this.pendingPorts.delete(port);
    }
  }

  /**
   * The sandbox seam (src/agents/sandbox): null when the agent runs
   * unsandboxed, else its prepared sandbox, recorded on the agent. Throws
   * `sandbox_unavailable` when it must be sandboxed and cannot.
   */
  private async sandboxFor(agent: AgentRecord, repo: RepoRecord, dir: string, argv: string[], env: Record<string, string>): Promise<PreparedSandbox | null> {
    const { ctx } = this;
    const sandbox = await sandboxForAgent({
      config: ctx.config, origin: agent.origin, agentDir: dir, worktree: agent.worktreePath,
      worktreeUpper: ctx.git.layerUpper(repo.path, agent.worktreePath),
      repoPaths: (await ctx.store.repos.list()).map((r) => r.path),
      network: agent.limits?.network === 'none' || repo.network === 'none' ? 'none' : 'host',
      programs: [...(repo.setup?.[0] ? [repo.setup[0]] : []), ...(argv[0] ? [argv[0]] : [])],
      runtimeProgram: argv[0], path: env.PATH, claudeLogin: agent.runtime.kind === 'claude',
      credentials: runtimeOf(agent.runtime).credentials ?? [],
      overlays: overlaysOf(agentLayersRoot(dir), agent.worktreePath),
      onUnsandboxed: (reason) => ctx.logger.warn({ agentId: agent.id, reason }, 'agent runs unsandboxed (MOSAIC_SANDBOX=auto)'),
    });
    if (sandbox) {
      env.TMPDIR = '/tmp';
      await ctx.store.agents.update(agent.id, { sandbox: sandbox.mechanism });
    }
    return sandbox;
  }

  /** Stops the setup of a spawning agent that is being killed (no-op when none runs). */
  abortSetup(agentId: string): void {
    this.setups.get(agentId)?.abort();
  }

  private async killedMeanwhile(agentId: string, timings: AgentTimings): Promise<boolean> {
    const current = await this.ctx.store.agents.get(agentId);
    if (!current?.killRequested) return false;
    await this.ctx.store.agents.update(agentId, { timings });
    await this.finisher.finish(agentId, { kind: 'killed' });
    return true;
  }

  private async takePort(): Promise<number> {
    const taken = new Set([...(await this.ctx.store.agents.reservedPorts()), ...this.pendingPorts]);
    const port = await reservePort(taken);
    this.pendingPorts.add(port);
    return port;
  }
}
