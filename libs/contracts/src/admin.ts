/**
 * Admin and operator contracts (docs/contracts.md "Admin pages", "Operator CLI"): the projection status report of
 * query-api's `GET /admin/projections` and `eventcast-ops projections status --json`, and the audit trail of
 * `GET /admin/audit`. Positions are decimal strings (JSON-safe bigints), times ISO-8601. Browser-safe.
 */

/** Progress of a running (or stopped) rebuild of one projection. */
export interface RebuildProgress {
  /** `running`, `interrupted` (no progress for a while: rerun to resume) or `failed`. */
  state: 'running' | 'interrupted' | 'failed';
  position: string | null;
  head: string | null;
  /** 0–100. */
  percent: number | null;
  eventsPerSecond: number | null;
  startedAt: string | null;
  updatedAt: string | null;
  error: string | null;
}

/** One projection in the status report. */
export interface ProjectionStatus {
  name: string;
  /** `failed` when the live projector's last apply failed; `rebuilding` while a rebuild reports progress. */
  state: 'running' | 'rebuilding' | 'failed';
  /** The live projector's error when `failed`. */
  error: string | null;
  /** Live checkpoint (null before the projection ever ran). */
  checkpoint: string | null;
  head: string;
  lagEvents: string;
  /** Seconds between the checkpoint's event and the head's event (0 when caught up). */
  lagSeconds: number;
  rebuild: RebuildProgress | null;
}

/** `GET /admin/projections`: every projection at `at`, with the store's head. */
export interface ProjectionsStatus {
  at: string;
  head: string;
  projections: ProjectionStatus[];
}

/** Categories of the audit trail (`?category=`). */
export const AUDIT_CATEGORIES = ['moderation', 'account', 'ingest', 'integrations'] as const;
/** One of {@link AUDIT_CATEGORIES}. */
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];

/** One entry of the audit trail (docs/contracts.md "Admin pages" lists the actions). */
export interface AuditEntry {
  /** Event id. */
  id: string;
  globalPosition: string;
  at: string;
  category: AuditCategory;
  action: string;
  channelId: string | null;
  /** The channel's username. */
  channel: string | null;
  actorId: string | null;
  actor: string | null;
  targetId: string | null;
  target: string | null;
  reason: string | null;
  /** Action-specific facts (never hashes, ciphertexts or tokens). */
  details: Record<string, unknown>;
}

/** `GET /admin/audit`: newest first; `nextBefore` null on the last page. */
export interface AuditPage {
  entries: AuditEntry[];
  nextBefore: string | null;
}
