/**
 * Stream-health events (issue 10 item 5):
 * - `BroadcastHealthSampled` on `health-<broadcastId>` (one stream per broadcast, like `audience-<broadcastId>`, so
 *   the channel's `broadcast-<channelId>` stream the start/end commands fold stays short): one sample of the
 *   publisher's input every `INGEST_HEALTH_SAMPLE_MS` while the broadcast is live;
 * - `PublishInputRefused` on `ingest-<channelId>` (beside `PublishRejected`): the ingest refused a publish whose key
 *   was valid because the packager cannot carry its media (no video, unsupported codec).
 * The payloads are the NATS request bodies of @eventcast/contracts (./stream-health.ts there): numbers, fixed enums
 * and ISO times only, no text from the encoder.
 */
import { healthSampleRequestSchema, inputRefusedRequestSchema } from '@eventcast/contracts';

export const streamHealthEventSchemas = {
  /** One health sample of a live broadcast's input (kbit/s, frames/s, seconds, pixels; warnings as codes). */
  BroadcastHealthSampled: healthSampleRequestSchema,
  /** A publish refused for its media, with the codecs seen (fixed sets). */
  PublishInputRefused: inputRefusedRequestSchema,
} as const;
