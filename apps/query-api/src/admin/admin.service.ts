/**
 * The admin queries (docs/contracts.md "Admin pages"): projection status, the audit trail and live broadcasts with
 * their ingest health. Reads read models only (`projection_checkpoints`, `projection_status`, `moderation_log`,
 * `admin_audit_log`, `channels`, `broadcasts`) plus the event store's head for the projection lag.
 */
import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { sql } from 'kysely';
import { QUERY_API_RUNTIME, type QueryApiRuntime } from '../common/tokens.js';
import { READ_MODEL_DB, type ReadModelDb, WEBHOOK_ACTIONS, type AuditCategory } from '@eventcast/read-models';
import { REDACTED } from '@eventcast/events';
import type { AdminBroadcastsDto, AuditEntryDto, AuditPageDto, ProjectionsStatusDto } from './admin.dto.js';
import { readIngestHealth, type IngestHealthSnapshot } from './ingest-health.client.js';

/** Keyset page request of the audit trail. */
export interface AuditQuery {
  /** Only entries with a global position below this (the previous page's `nextBefore`). */
  before: bigint | null;
  /** 1–200. */
  limit: number;
  /** Only this category; null = all. */
  category: AuditCategory | null;
}

/** Admin read side. */
@Injectable()
export class AdminService {
  constructor(
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    @Inject(QUERY_API_RUNTIME) private readonly runtime: QueryApiRuntime,
  ) {}

  /**
   * Every projection's checkpoint, the store head, lag and state (`projectionStatus` of @eventcast/read-models, rebuild/status.ts, the same
   * report as `eventcast-ops projections status`).
   * @throws {ServiceUnavailableException} (503) before the projector runs, or when the event store cannot tell its head.
   */
  async projections(): Promise<ProjectionsStatusDto> {
    const status = this.runtime.projectionStatus;
    if (!status) throw new ServiceUnavailableException('projection status unavailable: the projector has not started or the event store cannot report its head');
    const projections = await status();
    return { at: new Date().toISOString(), head: projections[0]?.head ?? '0', projections };
  }

  /**
   * A page of the audit trail, newest first: `moderation_log` (every channel) and `admin_audit_log`, merged by global
   * position; channel and actor names resolved from `channels`. Webhook URLs (targets of `webhook_*`) are always
   * `[redacted]` (REDACTED of @eventcast/events, as `eventcast-ops replay`).
   */
  async audit(q: AuditQuery): Promise<AuditPageDto> {
    const before = q.before;
    const moderation = this.db
      .selectFrom('moderation_log as m')
      .select([
        'm.id',
        'm.global_position',
        'm.at',
        sql<string>`'moderation'`.as('category'),
        'm.action',
        sql<string | null>`m.channel_id`.as('channel_id'),
        'm.moderator_id as actor_id',
        sql<string | null>`m.moderator_name`.as('actor_name'),
        sql<string | null>`m.target_id::text`.as('target_id'),
        'm.target_name',
        'm.reason',
        'm.details',
      ])
      .$if(before !== null, (qb) => qb.where('m.global_position', '<', (before ?? 0n).toString()));
    const security = this.db
      .selectFrom('admin_audit_log as s')
      .select(['s.id', 's.global_position', 's.at', 's.category', 's.action', 's.channel_id', 's.actor_id', 's.actor_name', 's.target_id', 's.target_name', 's.reason', 's.details'])
      .$if(before !== null, (qb) => qb.where('s.global_position', '<', (before ?? 0n).toString()))
      .$if(q.category !== null && q.category !== 'moderation', (qb) => qb.where('s.category', '=', q.category ?? ''));
    // Each half takes its own newest `limit + 1` rows by index first, so the merge never sorts more than 2 × (limit + 1).
    const newest = {
      moderation: this.db.selectFrom(moderation.orderBy('m.global_position', 'desc').limit(q.limit + 1).as('mm')).selectAll(),
      security: this.db.selectFrom(security.orderBy('s.global_position', 'desc').limit(q.limit + 1).as('ss')).selectAll(),
    };
    const source = q.category === 'moderation' ? newest.moderation : q.category !== null ? newest.security : newest.moderation.unionAll(newest.security);
    const rows = await this.db
      .selectFrom(source.as('u'))
      .leftJoin('channels as c', 'c.id', 'u.channel_id')
      .leftJoin('channels as a', 'a.id', 'u.actor_id')
      .select([
        'u.id',
        'u.global_position',
        'u.at',
        'u.category',
        'u.action',
        'u.channel_id',
        'c.username as channel',
        'u.actor_id',
        sql<string | null>`coalesce(u.actor_name, a.username)`.as('actor'),
        'u.target_id',
        'u.target_name',
        'u.reason',
        'u.details',
      ])
      .orderBy('u.global_position', 'desc')
      .limit(q.limit + 1)
      .execute();
    const page = rows.slice(0, q.limit);
    const entries: AuditEntryDto[] = page.map((r) => ({
      id: r.id,
      globalPosition: String(r.global_position),
      at: r.at.toISOString(),
      category: r.category as AuditCategory, // the column holds AUDIT_CATEGORIES only (the projection writes them)
      action: r.action,
      channelId: r.channel_id,
      channel: r.channel ?? null,
      actorId: r.actor_id,
      actor: r.actor,
      targetId: r.target_id,
      // Rows projected before webhook URLs were redacted in the projection (until a rebuild of admin-audit) still hold the URL.
      target: r.target_name !== null && WEBHOOK_ACTIONS.has(r.action) ? REDACTED : r.target_name,
      reason: r.reason,
      details: r.details,
    }));
    return { entries, nextBefore: rows.length > q.limit ? (entries.at(-1)?.globalPosition ?? null) : null };
  }

  /**
   * Live broadcasts (channels read model, newest first) joined with what the ingest nodes (`INGEST_URL`) report.
   * @param authorization the admin's `Authorization` header, forwarded to ingest.
   */
  async broadcasts(authorization: string): Promise<AdminBroadcastsDto> {
    const rows = await this.db
      .selectFrom('channels as c')
      .innerJoin('broadcasts as b', 'b.id', 'c.current_broadcast_id')
      .where('c.live', '=', true)
      .select(['b.id as broadcast_id', 'c.id as channel_id', 'c.username', 'c.title', 'c.category', 'b.started_at', 'b.media'])
      .orderBy('b.started_at', 'desc')
      .orderBy('c.username')
      .execute();
    const urls = this.runtime.ingestUrls ?? [];
    const snapshot: IngestHealthSnapshot = rows.length > 0 || urls.length > 0 ? await readIngestHealth(urls, authorization) : { nodes: [], channels: new Map() };
    const down = snapshot.nodes.filter((n) => n.error !== null);
    const note =
      urls.length === 0
        ? 'no ingest node configured (INGEST_URL)'
        : down.length === snapshot.nodes.length
          ? `ingest unavailable: ${down.map((n) => `${n.url}: ${n.error}`).join('; ')}`
          : `not reported by ${snapshot.nodes.length - down.length === 1 ? 'the ingest node' : 'any reachable ingest node'}${down.length > 0 ? ` (unreachable: ${down.map((n) => n.url).join(', ')})` : ''}`;
    return {
      at: new Date().toISOString(),
      broadcasts: rows.map((r) => {
        const h = snapshot.channels.get(r.channel_id);
        const health = h ? { ingestId: h.ingestId, connected: h.connected, publishingSince: h.publishingSince, input: h.input, packager: h.packager } : null;
        return {
          broadcastId: r.broadcast_id,
          channelId: r.channel_id,
          username: r.username,
          title: r.title,
          category: r.category,
          startedAt: r.started_at.toISOString(),
          media: r.media ?? null,
          health,
          healthNote: health ? null : note,
        };
      }),
      ingest: snapshot.nodes,
    };
  }
}
