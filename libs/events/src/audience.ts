/**
 * Audience events (stream `audience-<broadcastId>`, one stream per broadcast): the viewer counts and unique viewers
 * that analytics are built from. The realtime edge observes presence; the command side records these events (NATS
 * request/reply `audience.sample` and `audience.viewers-joined`, docs/contracts.md) only while the broadcast is live.
 * No raw IP address or session id is ever stored: guests are identified by a keyed hash.
 */
import { z } from 'zod';
import { viewerKeySchema } from '@eventcast/contracts';

const uuid = z.uuid();
const iso = z.iso.datetime({ offset: true });

/** A viewer key (`account:<uuid>` or `guest:<32 hex>`): declared in @eventcast/contracts (audience.ts), re-exported. */
export { viewerKeySchema };

/** Default seconds between two viewer samples of a live channel (`REALTIME_VIEWER_SAMPLE_SECONDS`). */
export const DEFAULT_VIEWER_SAMPLE_SECONDS = 15;

export const audienceEventSchemas = {
  /** Concurrent viewers of a live broadcast at `sampledAt`, summed over every realtime edge. */
  BroadcastViewersSampled: z.object({
    broadcastId: uuid,
    channelId: uuid,
    /** WebSocket subscribers of the channel (all edges). */
    viewers: z.number().int().min(0),
    /** Those of them signed in. */
    chatters: z.number().int().min(0),
    /** When the edge read the totals (ISO-8601). */
    sampledAt: iso,
    /** The sampling period in seconds; a sample stands for at most twice this long (see docs/contracts.md). */
    intervalSeconds: z.number().int().min(1).max(3600),
  }),
  /** A viewer watched the broadcast for the first time (once per viewer key per broadcast). */
  ViewerJoinedBroadcast: z.object({
    broadcastId: uuid,
    channelId: uuid,
    viewerKey: viewerKeySchema,
  }),
} as const;
