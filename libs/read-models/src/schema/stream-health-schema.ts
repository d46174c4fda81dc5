/**
 * Kysely types of the stream-health read models (migration `2026_12_07_0100_stream_health`, written only by
 * projections/stream-health.projection.ts; issue 10 item 5).
 */
import type { ColumnType } from 'kysely';
import type { StreamHealthMeasures } from '@eventcast/contracts';

/** A jsonb column holding the measured numbers of one sample (`StreamHealthMeasures` of @eventcast/contracts). */
export type MeasuresColumn = ColumnType<StreamHealthMeasures, string, string>;

/** `readmodels.stream_health_samples`: every sample of every broadcast (the series for analytics and the VOD page). */
export interface StreamHealthSamplesTable {
  broadcast_id: string;
  sampled_at: Date;
  channel_id: string;
  measures: MeasuresColumn;
}

/** `readmodels.stream_health_latest`: the newest sample per channel (the owner's dashboard). */
export interface StreamHealthLatestTable {
  channel_id: string;
  broadcast_id: string;
  sampled_at: Date;
  measures: MeasuresColumn;
}

/** `readmodels.publish_refusals_latest`: the last publish refused for its media, per channel. */
export interface PublishRefusalsLatestTable {
  channel_id: string;
  reason: string;
  video_codec: string | null;
  audio_codec: string | null;
  refused_at: Date;
}

export interface StreamHealthTables {
  stream_health_samples: StreamHealthSamplesTable;
  stream_health_latest: StreamHealthLatestTable;
  publish_refusals_latest: PublishRefusalsLatestTable;
}

/** Every stream-health table name (the projection's `tables`). */
export const STREAM_HEALTH_TABLES = ['stream_health_samples', 'stream_health_latest', 'publish_refusals_latest'] as const satisfies readonly (keyof StreamHealthTables)[];
