import PgBoss from 'pg-boss';
import type { Logger } from '../core/logger.js';
import type { TakenWork } from '../agents/placement.js';

/** The pg-boss queue every node takes spawns from (schema `pgboss` in the cluster's database). */
export const SPAWN_QUEUE = 'mosaic-spawn';
/** A job a node took but neither settled nor saw through (it died) goes back to the queue after this. */
const EXPIRE_S = 60;

interface SpawnJob {
  agentId: string;
}

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

  /** A queued agent becomes a job (pg-boss priority: higher first, as Mosaic's). */
  async send(agentId: string, priority: number): Promise<void> {
    await this.boss.send(SPAWN_QUEUE, { agentId } satisfies SpawnJob, { priority });
  }

  /** The next job, marked active for this node; `settle()` completes it. Undefined when the queue is empty. */
  async take(): Promise<TakenWork | undefined> {
    const [job] = await this.boss.fetch<SpawnJob>(SPAWN_QUEUE, { batchSize: 1, priority: true });
    if (job === undefined) return undefined;
    return { agentId: job.data.agentId, settle: () => this.boss.complete(SPAWN_QUEUE, job.id) };
  }
}
