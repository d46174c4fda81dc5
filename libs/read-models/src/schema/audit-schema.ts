/**
 * Kysely type of the admin audit read model (migration `2026_11_23_1200_admin_audit`, written only by
 * projections/audit.projection.ts). The moderation half of the audit trail is `moderation_log` (schema.ts); this table
 * holds the account, ingest and integration (security) actions. See docs/contracts.md "Admin pages".
 */
import type { BigIntColumn, JsonColumn } from './columns.js';

/** `readmodels.admin_audit_log`: one row per security-relevant event. */
export interface AdminAuditLogTable {
  /** Event id. */
  id: string;
  global_position: BigIntColumn;
  /** The event's `occurredAt`. */
  at: Date;
  /** `account`, `ingest` or `integrations` (see `auditCategory` in projections/audit.projection.ts). */
  category: string;
  /** Readable action, e.g. `stream_key_rotated` (see `auditAction`). */
  action: string;
  /** The channel (= account) concerned; null when unknown (a publish refused for a malformed key). */
  channel_id: string | null;
  /** Account that caused the event (`metadata.actorId`, else the channel owner); null for automatic events. */
  actor_id: string | null;
  /** The actor's username when the event carries it (AccountRegistered); otherwise resolved from `channels` when read. */
  actor_name: string | null;
  /** What was acted on: a token, webhook or key id. */
  target_id: string | null;
  /** Its readable name: token name, webhook URL. */
  target_name: string | null;
  reason: string | null;
  /** Public facts of the event (never hashes, ciphertexts or secrets). */
  details: JsonColumn<Record<string, unknown>>;
}

/** Tables of this file, merged into `DB`. */
export interface AuditTables {
  admin_audit_log: AdminAuditLogTable;
}
