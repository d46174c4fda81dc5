/**
 * Typed Kysely view of the `readmodels` PostgreSQL schema. Written only by the projectors (src/projections),
 * read by the HTTP services. Column types follow node-postgres: `bigint` columns come back as decimal strings,
 * `timestamptz` as `Date`, `jsonb` as parsed JSON.
 */
import type { ColumnType } from 'kysely';
import type { BigIntColumn, JsonColumn } from './columns.js';
import type { AnalyticsTables } from './analytics-schema.js';
import type { StreamHealthTables } from './stream-health-schema.js';
import type { AuditTables } from './audit-schema.js';
import type { IntegrationsTables } from './integrations-schema.js';
import type { LatencyMode } from '@eventcast/contracts';
import type { RestreamTables } from './restream-schema.js';
import type { VodTables } from './vod-schema.js';
import type { ChatRole, ChatSettings, MediaInfo } from '@eventcast/events';

/** PostgreSQL schema that holds every read model of this app. */
export const READMODELS_SCHEMA = 'readmodels';

export type { BigIntColumn, JsonColumn } from './columns.js';

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
  /** `low` | `smooth` (`LatencyMode` of `@eventcast/contracts`); defaults to `low` on insert. */
  latency_mode: ColumnType<LatencyMode, LatencyMode | undefined, LatencyMode>;
  /** Whether the channel keeps its broadcasts as VODs (ChannelRecordingChanged); true on insert. */
  recording_enabled: ColumnType<boolean, boolean | undefined, boolean>;
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

/** `readmodels.chat_messages`: one row per ChatMessageSent; times are `timestamptz`. */
export interface ChatMessagesTable {
  /** The message id. */
  id: string;
  channel_id: string;
  sender_id: string;
  sender_name: string;
  sender_role: ChatRole;
  /** As sent, after blocked-term masking; plain text, never HTML. */
  text: string;
  masked_terms: number;
  /** `sentAt` of the ChatMessageSent (v2; v1 events: their `occurredAt`, via the upcaster). */
  sent_at: Date;
  /** When viewers may see it (sent + message delay). */
  visible_at: Date;
  /** Set by ChatMessageDeleted or ChatCleared (the event's `occurredAt`). */
  deleted_at: Date | null;
  /** Moderator id of the delete/clear. */
  deleted_by: string | null;
  global_position: BigIntColumn;
  /** The bot's name when the channel's bot sent it with an API token (`bot` of ChatMessageSent), else null. */
  bot_name: ColumnType<string | null, string | null | undefined, string | null>;
}

/** `readmodels.chat_rooms`: per-channel chat settings and blocked terms; absent row = defaults. */
export interface ChatRoomsTable {
  channel_id: string;
  username: string;
  settings: JsonColumn<ChatSettings>;
  /** Lower-case terms (default `[]`). */
  blocked_terms: ColumnType<string[], string | undefined, string>;
  blocked_action: ColumnType<'mask' | 'refuse', 'mask' | 'refuse' | undefined, 'mask' | 'refuse'>;
  /** Global position of the last ChatCleared: messages at or below it are hidden. */
  cleared_at_position: BigIntColumn | null;
}

/** `readmodels.chat_roles`: per (channel, user) moderator flag, ban and timeout. */
export interface ChatRolesTable {
  channel_id: string;
  user_id: string;
  user_name: string;
  moderator: boolean;
  banned: boolean;
  timed_out_until: Date | null;
}

/** `readmodels.moderation_log`: one row per moderation event; `id` is the event id. */
export interface ModerationLogTable {
  id: string;
  channel_id: string;
  /** Readable action, see `moderationAction` in projections/moderation-log.projection.ts. */
  action: string;
  /** Null for automatic actions (blocked-term refusals). */
  moderator_id: string | null;
  moderator_name: string;
  target_id: string | null;
  target_name: string | null;
  reason: string | null;
  details: JsonColumn<Record<string, unknown>>;
  at: Date;
  global_position: BigIntColumn;
}

/** `readmodels.channel_emotes`: the channel's emote images (≤ 64 KiB each). */
export interface ChannelEmotesTable {
  channel_id: string;
  code: string;
  content_type: string;
  image: Buffer;
}

/** `readmodels.follows`: who follows which channel, since when. */
export interface FollowsTable {
  channel_id: string;
  follower_id: string;
  follower_name: string;
  followed_at: Date;
}

/**
 * `readmodels.projection_status`: what the live projector and the operator CLI (`eventcast-ops`) report about a
 * projection besides its checkpoint: the live projector's last failure, and a blue/green rebuild's progress.
 */
export interface ProjectionStatusTable {
  name: string;
  /** Last error of the live projector (`Name: message`), null while it applies fine. */
  live_error: string | null;
  live_failed_at: Date | null;
  /** `rebuilding` while a rebuild runs (or was interrupted: see `rebuild_updated_at`), `failed`, or null. */
  rebuild_state: 'rebuilding' | 'failed' | null;
  rebuild_error: string | null;
  /** Build checkpoint and the store head it is heading for. */
  rebuild_position: BigIntColumn | null;
  rebuild_head: BigIntColumn | null;
  /** Events per second of the rebuild over its last progress interval. */
  rebuild_events_per_second: number | null;
  rebuild_started_at: Date | null;
  /** Last progress report; a `rebuilding` row not updated for long belongs to a rebuild that died (resumable). */
  rebuild_updated_at: Date | null;
}

/** Tables reachable through `db.withSchema(READMODELS_SCHEMA)`. */
export interface DB extends AnalyticsTables, IntegrationsTables, AuditTables, StreamHealthTables, RestreamTables, VodTables {
  channels: ChannelsTable;
  broadcasts: BroadcastsTable;
  projection_checkpoints: ProjectionCheckpointsTable;
  projection_status: ProjectionStatusTable;
  chat_messages: ChatMessagesTable;
  chat_rooms: ChatRoomsTable;
  chat_roles: ChatRolesTable;
  moderation_log: ModerationLogTable;
  channel_emotes: ChannelEmotesTable;
  follows: FollowsTable;
}

