/**
 * Kysely types of the restream read model (migration `2026_12_07_0200_restream_targets`, issue 10 item 7):
 * `readmodels.restream_targets`, written only by ./restream-targets.projection.ts. No key material: the target's key
 * stays in the event store (sealed), the read model never holds it.
 */
import type { RestreamTargetState } from '@eventcast/contracts';

/** `readmodels.restream_targets`: a channel's live (not removed) targets and the last state the ingest reported. */
export interface RestreamTargetsTable {
  id: string;
  channel_id: string;
  name: string;
  /** `rtmp(s)://host[:port]/app`, without the key. */
  url: string;
  enabled: boolean;
  created_at: Date;
  /** Broadcast of the last state report; null before the first. */
  broadcast_id: string | null;
  state: RestreamTargetState | null;
  reason: string | null;
  state_at: Date | null;
}

/** The restream tables (merged into the read model's DB type). */
export interface RestreamTables {
  restream_targets: RestreamTargetsTable;
}
