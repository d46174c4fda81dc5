/**
 * The recordings retention job (issue 11 item 6). Every RECORDING_RETENTION_INTERVAL_MS (default 10 min), in one
 * command-api at a time (a PostgreSQL session advisory lock, as the event publisher does), it:
 * 1. deletes the files of recordings whose VOD deletion is already recorded (a file deletion that failed earlier),
 *    and of recordings not kept as VODs (`keep: false` in the manifest) whose broadcast ended (the ingest normally
 *    deletes them itself);
 * 2. deletes VODs whose broadcast ended more than RECORDING_RETENTION_DAYS ago (`BroadcastRecordingDeleted`, reason
 *    `retention`), then their files; 0 days keeps them forever;
 * 3. while media storage holds more than RECORDING_DISK_BUDGET_GB (0: no budget), deletes the oldest VODs (reason
 *    `disk_budget`);
 * 4. deletes clips created more than RECORDING_RETENTION_DAYS ago (`ClipDeleted`, reason `retention`), the files of
 *    clips whose deletion is recorded, and clip files without a `ClipCreated` older than an hour (a creation that
 *    died between storing and recording).
 * Observable: `eventcast_recording_*` metrics (core/metrics.ts) and one log line per run with what it did.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import pg from 'pg';
import { clipKey, recordingPrefix, type RetentionRunSummary } from '@eventcast/contracts';
import { DomainError, type BroadcastState } from '@eventcast/domain';
import type { EventMetadata } from '@eventcast/events';
import { guardPool } from '@eventcast/event-store';
import type { MediaStorage } from '@eventcast/media-storage';
import type { Logger } from '@eventcast/platform';
import { DEFAULT_RECORDING_RETENTION_INTERVAL_MS, type CommandApiConfig } from '../core/config.js';
import { correlationIdFrom } from '../core/correlation.js';
import { Aggregates } from '../core/aggregates.js';
import { recordingStorageBytes, retentionBytesFreed, retentionDeletions, retentionLastRun, retentionRuns } from '../core/metrics.js';
import { CONFIG, LOGGER } from '../core/tokens.js';
import { RecordingsService } from './recordings.service.js';
import { MEDIA_STORAGE, readRecordingManifest } from './storage.js';

/** Advisory lock key of the job (first int: the platform's namespace of command-api jobs; second: this job). */
export const RETENTION_LOCK_KEY = [0x65766374, 11] as const;
const LOCK_KEY = RETENTION_LOCK_KEY;
/** Clip files without a ClipCreated this old are orphans of a failed creation, ms. */
const ORPHAN_CLIP_AGE_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** What one run did. Sizes in bytes. */
/** What one run did: the contract's `RetentionRunSummary` (@eventcast/contracts vod.ts), the reply of `POST /admin/retention/run`. */
export type RetentionSummary = RetentionRunSummary;

interface RecordingDir {
  broadcastId: string;
  bytes: number;
}

/** The periodic job and its manual trigger. */
@Injectable()
export class RetentionJob implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | null = null;
  private readonly pool: pg.Pool;
  private current: Promise<RetentionSummary> | null = null;

  constructor(
    private readonly aggregates: Aggregates,
    @Inject(MEDIA_STORAGE) private readonly storage: MediaStorage,
    @Inject(CONFIG) private readonly config: CommandApiConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly recordings: RecordingsService,
  ) {
    // guardPool: a connection PostgreSQL closes (a restart), idle or checked out, must not become an uncaught 'error'
    // event that takes command-api down; the run in progress fails and the next one reconnects.
    this.pool = guardPool(new pg.Pool({ connectionString: config.DATABASE_URL, max: 1 }), (err) => this.logger.warn({ err: err.message }, 'retention job: database connection failed'));
  }

  /** Starts the periodic runs (none when the interval is 0). */
  onApplicationBootstrap(): void {
    const every = this.config.RECORDING_RETENTION_INTERVAL_MS ?? DEFAULT_RECORDING_RETENTION_INTERVAL_MS;
    if (every <= 0) return;
    this.timer = setInterval(() => {
      this.runNow().catch((err: unknown) => this.logger.error({ err }, 'recording retention run failed'));
    }, every);
    this.timer.unref();
  }

  /** Stops the timer, waits for a run in progress, closes the pool. */
  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.current?.catch(() => undefined);
    await this.pool.end();
  }

  /**
   * Runs the job now unless this process is already running it (then waits for that run) or another process holds
   * the lock (`ran: false`).
   * @throws when PostgreSQL is unreachable (the run is counted as failed).
   */
  runNow(): Promise<RetentionSummary> {
    this.current ??= this.locked().finally(() => {
      this.current = null;
    });
    return this.current;
  }

  private async locked(): Promise<RetentionSummary> {
    const started = Date.now();
    const client = await this.pool.connect();
    try {
      const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [...LOCK_KEY]);
      if (!got.rows[0]?.ok) {
        retentionRuns.inc({ outcome: 'skipped' });
        this.logger.info('recording retention run skipped: another command-api holds the lock');
        return { ...emptySummary(), ran: false, durationMs: Date.now() - started };
      }
      try {
        const summary = await this.run(started);
        retentionRuns.inc({ outcome: 'done' });
        retentionLastRun.set(Date.now() / 1000);
        recordingStorageBytes.set(summary.usedBytes);
        this.logger.info({ ...summary }, 'recording retention run');
        return summary;
      } catch (err) {
        retentionRuns.inc({ outcome: 'failed' });
        throw err;
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [...LOCK_KEY]).catch(() => undefined);
      }
    } finally {
      client.release();
    }
  }

  private async run(started: number): Promise<RetentionSummary> {
    const s = emptySummary();
    const now = Date.now();
    const days = this.config.RECORDING_RETENTION_DAYS;
    const cutoff = days > 0 ? now - days * DAY_MS : null;
    s.budgetBytes = Math.floor(this.config.RECORDING_DISK_BUDGET_GB * 1024 ** 3);
    const meta: EventMetadata = { correlationId: correlationIdFrom(undefined) };
    const channels = new Map<string, BroadcastState>();
    const broadcastsOf = async (channelId: string): Promise<BroadcastState> => {
      let st = channels.get(channelId);
      if (!st) {
        st = (await this.aggregates.broadcasts.load(channelId)).state;
        channels.set(channelId, st);
      }
      return st;
    };
    const freed = (bytes: number) => {
      s.bytesFreed += bytes;
      retentionBytesFreed.inc(bytes);
    };

    // 1–2: every recording directory.
    const vods: { channelId: string; broadcastId: string; endedAtMs: number; bytes: number }[] = [];
    for (const dir of await this.recordingDirs()) {
      try {
        const manifest = await readRecordingManifest(this.storage, dir.broadcastId);
        if (!manifest) continue;
        const b = (await broadcastsOf(manifest.channelId)).broadcasts.get(dir.broadcastId);
        const endedAt = manifest.endedAt ?? b?.endedAt ?? null;
        const endedAtMs = endedAt === null ? null : Date.parse(endedAt);
        if (b?.recording === 'deleted' || (b?.recording !== 'recorded' && !manifest.keep && endedAtMs !== null)) {
          freed(await this.storage.deletePrefix(recordingPrefix(dir.broadcastId)));
          s.leftoversDeleted++;
          retentionDeletions.inc({ kind: 'files', reason: b?.recording === 'deleted' ? 'deleted' : 'not_kept' });
          continue;
        }
        if (b?.recording !== 'recorded' || endedAtMs === null) continue;
        if (cutoff !== null && endedAtMs < cutoff) {
          const out = await this.recordings.deleteRecording(manifest.channelId, dir.broadcastId, 'retention', null, meta);
          freed(out.bytesFreed);
          s.vodsDeleted.retention++;
          retentionDeletions.inc({ kind: 'vod', reason: 'retention' });
          continue;
        }
        vods.push({ channelId: manifest.channelId, broadcastId: dir.broadcastId, endedAtMs, bytes: dir.bytes });
      } catch (err) {
        s.errors++;
        if (!(err instanceof DomainError)) this.logger.warn({ broadcastId: dir.broadcastId, err: (err as Error).message }, 'retention: recording not handled');
      }
    }

    // 4: clips.
    for (const [clipId, { modifiedAtMs }] of await this.clipFiles()) {
      try {
        const { state, events } = await this.aggregates.clips.history(clipId);
        if (state.status === 'deleted' || (state.status === 'absent' && now - modifiedAtMs > ORPHAN_CLIP_AGE_MS)) {
          const bytes = await this.clipBytes(clipId);
          await this.recordings.deleteClipFiles(clipId);
          freed(bytes);
          s.leftoversDeleted++;
          retentionDeletions.inc({ kind: 'files', reason: state.status === 'deleted' ? 'deleted' : 'orphan' });
          continue;
        }
        const createdAt = events[0]?.occurredAt.getTime();
        if (state.status === 'created' && cutoff !== null && createdAt !== undefined && createdAt < cutoff) {
          const out = await this.recordings.deleteClip(clipId, 'retention', null, meta);
          freed(out.bytesFreed);
          s.clipsDeleted++;
          retentionDeletions.inc({ kind: 'clip', reason: 'retention' });
        }
      } catch (err) {
        s.errors++;
        this.logger.warn({ clipId, err: (err as Error).message }, 'retention: clip not handled');
      }
    }

    // 3: the disk budget, oldest VODs first.
    s.usedBytes = await this.storage.usage();
    if (s.budgetBytes > 0 && s.usedBytes > s.budgetBytes) {
      vods.sort((a, b) => a.endedAtMs - b.endedAtMs);
      for (const v of vods) {
        if (s.usedBytes <= s.budgetBytes) break;
        try {
          const out = await this.recordings.deleteRecording(v.channelId, v.broadcastId, 'disk_budget', null, meta);
          freed(out.bytesFreed);
          s.usedBytes -= out.bytesFreed;
          s.vodsDeleted.disk_budget++;
          retentionDeletions.inc({ kind: 'vod', reason: 'disk_budget' });
        } catch (err) {
          s.errors++;
          this.logger.warn({ broadcastId: v.broadcastId, err: (err as Error).message }, 'retention: VOD over budget not deleted');
        }
      }
      s.usedBytes = await this.storage.usage();
    }
    s.durationMs = Date.now() - started;
    return s;
  }

  /** Every `recordings/<broadcastId>/` directory with its size. */
  private async recordingDirs(): Promise<RecordingDir[]> {
    const dirs = new Map<string, number>();
    for await (const o of this.storage.list('recordings/')) {
      const id = o.key.split('/')[1];
      if (id) dirs.set(id, (dirs.get(id) ?? 0) + o.size);
    }
    return [...dirs].map(([broadcastId, bytes]) => ({ broadcastId, bytes }));
  }

  /** Clip ids in storage (`clips/<clipId>.mp4|jpg`) with their newest file time. */
  private async clipFiles(): Promise<Map<string, { modifiedAtMs: number }>> {
    const clips = new Map<string, { modifiedAtMs: number }>();
    for await (const o of this.storage.list('clips/')) {
      const m = /^clips\/([0-9a-f-]{36})\.(?:mp4|jpg)$/.exec(o.key);
      if (!m?.[1]) continue;
      const prev = clips.get(m[1]);
      clips.set(m[1], { modifiedAtMs: Math.max(prev?.modifiedAtMs ?? 0, o.modifiedAtMs) });
    }
    return clips;
  }

  private async clipBytes(clipId: string): Promise<number> {
    let n = 0;
    for (const ext of ['mp4', 'jpg'] as const) n += (await this.storage.stat(clipKey(clipId, ext)))?.size ?? 0;
    return n;
  }
}

function emptySummary(): RetentionSummary {
  return { ran: true, vodsDeleted: { retention: 0, disk_budget: 0 }, clipsDeleted: 0, leftoversDeleted: 0, bytesFreed: 0, usedBytes: 0, budgetBytes: 0, errors: 0, durationMs: 0 };
}
