/**
 * Projector leadership: exactly ONE process applies the projections of a read-model database at a time.
 *
 * The leader holds a session-level PostgreSQL advisory lock ({@link PROJECTOR_LOCK}) on a dedicated connection of
 * its own. PostgreSQL releases such a lock when the holding session ends, so a leader killed with SIGKILL (or cut off
 * by a network fault) frees it by itself; a follower tries `pg_try_advisory_lock` again every `retryMs` (default
 * 1 s) and takes over. Advisory locks are per database: each read-model database has its own leader.
 *
 * The unit of leadership is the projector as a whole (one runner, one durable JetStream consumer, every projection
 * of the registry), not each projection: the projections of a batch run in run order in one transaction (the
 * moderation log reads the chat messages of the same batch), and one consumer delivers every event to them once.
 *
 * Losing the lock connection (PostgreSQL restart, `pg_terminate_backend`, network) means the lock is gone: the
 * leader calls `onLost` (stop consuming) at once and competes again like a follower. Correctness never rests on the
 * lock alone: every batch moves its checkpoints in the same transaction under a row lock (projection-runner.ts), so
 * an old leader finishing its in-flight batch after a new one started cannot apply an event twice.
 */
import pg from 'pg';
import type { Logger } from '@eventcast/platform';

/**
 * The advisory lock key pair of the projector: namespace 7_341_005 (beside the store's migration lock 7_341_001, the
 * publisher's 7_341_002 and the rebuild's 7_341_004) and 0. Other advisory locks of the platform must not use it.
 */
export const PROJECTOR_LOCK: readonly [number, number] = [7_341_005, 0];

/** This process's part in projecting: `leader` applies events, `follower` waits for the lock. */
export type ProjectorRole = 'leader' | 'follower';

/** Settings of {@link ProjectorLeadership}. */
export interface ProjectorLeadershipOptions {
  /** PostgreSQL URL of the read-model database (the lock's scope). */
  databaseUrl: string;
  /**
   * Called when this process becomes leader: catch up and start consuming. A rejection releases the lock again
   * (the next try is after `retryMs`); on the first try ({@link ProjectorLeadership.start}) it is thrown.
   */
  onAcquired: () => Promise<void>;
  /** Called when the lock is lost or leadership ends: stop consuming (finish the in-flight batch). Must not throw. */
  onLost: () => Promise<void>;
  /** Interval between lock attempts of a follower and health checks of the leader's lock connection, ms (default 1000). */
  retryMs?: number;
  logger: Logger;
}

/** Holds (or waits for) the projector lock of one read-model database; see the module comment. */
export class ProjectorLeadership {
  private client: pg.Client | undefined;
  private leader = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private transitions = 0;
  /** The `onLost` in progress: a new attempt waits for it, so consuming never starts before the old consumer stopped. */
  private losing: Promise<void> | undefined;
  private readonly retryMs: number;

  constructor(private readonly options: ProjectorLeadershipOptions) {
    this.retryMs = options.retryMs ?? 1000;
  }

  /** `leader` while this process holds the lock and projects, else `follower`. */
  get role(): ProjectorRole {
    return this.leader ? 'leader' : 'follower';
  }

  /** Times this process became leader (metrics, tests). */
  get acquisitions(): number {
    return this.transitions;
  }

  /**
   * Makes the first attempt (becoming leader runs `onAcquired` before this resolves), then keeps trying — or
   * watching the held lock — in the background every `retryMs`.
   * @returns the role after the first attempt.
   * @throws what `onAcquired` threw on the first attempt (the lock is released again), or a connection error.
   */
  async start(): Promise<ProjectorRole> {
    await this.attempt(true);
    this.loop = this.run();
    return this.role;
  }

  /**
   * Ends leadership: stops the background loop, calls `onLost` when leader, then unlocks and closes the lock
   * connection (so a follower takes over at its next try). Idempotent.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.losing;
    if (this.leader) {
      this.leader = false;
      await this.options.onLost();
    }
    await this.release();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.retryMs);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
      if (this.stopped) return;
      try {
        if (this.leader) await this.check();
        else await this.attempt(false);
      } catch (err) {
        this.options.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'projector leadership: lock attempt failed; retrying');
      }
    }
  }

  /** One `pg_try_advisory_lock` on the dedicated connection (opened on demand). */
  private async attempt(first: boolean): Promise<void> {
    await this.losing;
    const client = await this.connection();
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::int, $2::int) AS locked', [...PROJECTOR_LOCK]);
    if (!rows[0]?.locked || this.stopped) {
      if (rows[0]?.locked) await client.query('SELECT pg_advisory_unlock($1::int, $2::int)', [...PROJECTOR_LOCK]).catch(() => undefined);
      return;
    }
    this.leader = true;
    this.transitions += 1;
    this.options.logger.info('projector leadership acquired: this process applies the projections');
    try {
      await this.options.onAcquired();
    } catch (err) {
      this.leader = false;
      await this.options.onLost();
      await this.release();
      if (first) throw err;
      this.options.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'projector could not start as leader; lock released');
    }
  }

  /** The leader's check that its lock session is alive (a dead one has lost the lock). */
  private async check(): Promise<void> {
    if (!this.client) return this.lost('lock connection closed');
    try {
      await this.client.query('SELECT 1');
    } catch (err) {
      await this.lost(err instanceof Error ? err.message : String(err));
    }
  }

  private lost(reason: string): Promise<void> {
    if (!this.leader) return this.losing ?? Promise.resolve();
    this.leader = false;
    this.options.logger.warn({ reason }, 'projector leadership lost (lock connection gone): stopping consuming; competing for the lock again');
    this.losing = (async () => {
      await this.options.onLost();
      await this.release();
    })().finally(() => (this.losing = undefined));
    return this.losing;
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.options.databaseUrl, application_name: 'eventcast-projector-lock', keepAlive: true });
    // An idle client's 'error' (PostgreSQL restart, terminated backend) must not crash the process: it ends the lock.
    client.on('error', (err) => {
      if (this.client === client) this.client = undefined;
      void this.lost(err.message);
    });
    client.on('end', () => {
      if (this.client === client) this.client = undefined;
      void this.lost('lock connection ended');
    });
    await client.connect();
    this.client = client;
    return client;
  }

  private async release(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    // Ending the session releases every advisory lock it holds.
    await client.end().catch(() => undefined);
  }
}
