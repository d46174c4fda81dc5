/**
 * Typed Kysely view of the `readmodels` PostgreSQL schema. Written only by the projectors (src/projections),
 * read by the HTTP services. Column types follow node-postgres: `bigint` columns come back as decimal strings,
 * `timestamptz` as `Date`, `jsonb` as parsed JSON.
 */
import type { ColumnType } from 'kysely';
import type { MediaInfo } from '@eventcast/events';

/** PostgreSQL schema that holds every read model of this app. */
export const READMODELS_SCHEMA = 'readmodels';

/** bigint column: read as a decimal string (pg default), written as bigint/string/number. */
export type BigIntColumn = ColumnType<string, bigint | string | number, bigint | string | number>;

/** `readmodels.channels`: one row per account/channel. `id` is the channel id (= account id). */
export interface ChannelsTable {
  id: string;
  /** Lower-case, `[a-z0-9_]{3,24}`, unique. */
  username: string;
  title: string;
  category: string;
  live: boolean;
  /** The broadcast on air, null when offline. */
  current_broadcast_id: string | null;
  /** `occurredAt` of the current BroadcastStarted, null when offline. */
  live_since: Date | null;
  last_broadcast_ended_at: Date | null;
  /** Global position of the last event that changed this row. */
  updated_position: BigIntColumn;
}

/** `readmodels.broadcasts`: one row per broadcast (live session). */
export interface BroadcastsTable {
  id: string;
  channel_id: string;
  username: string;
  started_at: Date;
  ended_at: Date | null;
  end_reason: string | null;
  /** Milliseconds on air, from BroadcastEnded; null while live. */
  duration_ms: BigIntColumn | null;
  media: ColumnType<MediaInfo, string, string>;
}

/** `readmodels.projection_checkpoints`: last applied global position per projection. */
export interface ProjectionCheckpointsTable {
  name: string;
  position: BigIntColumn;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** Tables reachable through `db.withSchema(READMODELS_SCHEMA)`. */
export interface DB {
  channels: ChannelsTable;
  broadcasts: BroadcastsTable;
  projection_checkpoints: ProjectionCheckpointsTable;
}

