import PgBoss from 'pg-boss';
import type { Logger } from '../core/logger.js';
import type { TakenWork } from '../agents/placement.js';
import type { QueueSkip } from '../store/types.js';

/** The pg-boss queue every node takes spawns from (schema `pgboss` in the cluster's database). */
export const SPAWN_QUEUE = 'mosaic-spawn';
/** A job a node took but neither settled nor saw through (it died) goes back to the queue after this. */
const EXPIRE_S = 60;

/** A job names its agent and what it needs of a node (a node fetches only jobs it can serve and its fleet governance lets start). */
interface SpawnJob {
  agentId: string;
  runtime?: string;
  repo?: string;
  origin?: string;
}

/** Which jobs a node may take: what it serves, minus what fleet governance holds. */
export interface TakeFilter {
  runtimes: readonly string[];
  repos: readonly string[];
  skip?: QueueSkip;
}

/**
 * pg-boss's own fetch (10.x, plans.js fetchNextJob: the next job by priority
 * then age, FOR UPDATE SKIP LOCKED, marked active) with a WHERE on the job's
 * data: pg-boss's fetch has no filter, and a node must never take a spawn it
 * cannot serve (it would hold it from the nodes that can). Jobs written
 * before they carried their needs match every node.
 */
const FETCH_SERVABLE = `
  WITH next AS (
    SELECT id FROM pgboss.job
    WHERE name = $1 AND state < 'active' AND start_after < now()
      AND (data->>'runtime' IS NULL OR data->>'runtime' = ANY($2::text[]))
      AND (data->>'repo' IS NULL OR data->>'repo' = ANY($3::text[]))
      AND NOT (COALESCE(data->>'runtime', '') = ANY($4::text[]))
      AND NOT (COALESCE(data->>'repo', '') = ANY($5::text[]))
      AND NOT (COALESCE(data->>'origin', '') = ANY($6::text[]))
    ORDER BY priority DESC, created_on, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
  )
  UPDATE pgboss.job j SET state = 'active', started_on = now(),
    retry_count = CASE WHEN j.started_on IS NOT NULL THEN j.retry_count + 1 ELSE j.retry_count END
  FROM next WHERE j.name = $1 AND j.id = next.id
  RETURNING j.id, j.data`;

/**
 * Placement through a real queue (pg-boss on the cluster's database): a spawn
 * is a job with the agent's priority; a node fetches one only when it has a
 * free slot, so agents spread by capacity and priorities hold across the
 * cluster. The job only says which agent; the agent's queued→spawning
 * transition is the claim (one node wins it), so a job delivered twice (a
 * node that died holding it) never runs an agent twice.
 */
export class SpawnQueue {
  private readonly boss: PgBoss;

  constructor(databaseUrl: string, private readonly logger: Logger) {
    this.boss = new PgBoss({
      connectionString: databaseUrl, max: 2, application_name: 'mosaic-cluster-queue',
      // Mosaic keeps no cron schedules; pg-boss's own upkeep (expiry, archiving) runs on one node at a time.
      schedule: false, supervise: true, migrate: true,
    });
    this.boss.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'job queue error'));
  }

  /** Installs pg-boss's schema (once per database: it takes its own advisory lock) and the spawn queue. */
  async start(): Promise<void> {
    await this.boss.start();
    for (let attempt = 0; ; attempt += 1) {
      try {
        if ((await this.boss.getQueue(SPAWN_QUEUE)) === null) {
          await this.boss.createQueue(SPAWN_QUEUE, { name: SPAWN_QUEUE, policy: 'standard', expireInSeconds: EXPIRE_S, retryLimit: 1_000_000, retryDelay: 0 });
        }
        return;
      } catch (err) {
        // Two nodes creating it at once: the loser looks again.
        if (attempt >= 3) throw err;
      }
    }
  }

  async stop(): Promise<void> {
    await this.boss.stop({ graceful: false, wait: true, timeout: 5_000 }).catch((err: unknown) => this.logger.warn({ err }, 'job queue stop failed'));
  }

  /** A queued agent becomes a job (pg-boss priority: higher first, as Mosaic's) with what it needs of a node. */
  async send(agent: { id: string; priority: number; runtime: string; repo: string; origin: string }): Promise<void> {
    const job: SpawnJob = { agentId: agent.id, runtime: agent.runtime, repo: agent.repo, origin: agent.origin };
    await this.boss.send(SPAWN_QUEUE, job, { priority: agent.priority });
  }

  /** The next job this node may take, marked active for it; `settle()` completes it. Undefined when none waits. */
  async take(filter: TakeFilter): Promise<TakenWork | undefined> {
    const skip = filter.skip ?? {};
    const { rows } = await this.boss.getDb().executeSql(FETCH_SERVABLE, [
      SPAWN_QUEUE, [...filter.runtimes], [...filter.repos], [...(skip.runtimes ?? [])], [...(skip.repos ?? [])], [...(skip.origins ?? [])],
    ]) as { rows: { id: string; data: SpawnJob }[] };
    const job = rows[0];
    if (job === undefined) return undefined;
    return { agentId: job.data.agentId, settle: () => this.boss.complete(SPAWN_QUEUE, job.id) };
  }
}
