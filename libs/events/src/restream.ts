/**
 * Restream / simulcast targets of a channel (stream `restream-<channelId>`, issue 10 item 7): other RTMP(S) services
 * the ingest forwards the live broadcast to, each with its own stream key.
 *
 * The target's stream key never travels in clear: the event keeps it only as `keyCiphertext`, AES-256-GCM under
 * STREAM_KEY_SECRET (the same sealing as webhook secrets and stream keys), and the field is one of the
 * CREDENTIAL_FIELDS (wire.ts) the publisher strips before JetStream. The URL is the server part only
 * (`rtmp(s)://host[:port]/app`), without the key.
 */
import { z } from 'zod';
import { RESTREAM_MAX_TARGETS, restreamTargetStateSchema, textRefinement, type RestreamTargetState } from '@eventcast/contracts';

const uuid = z.uuid();

/** Most restream targets per channel (enabled or not): the contract's {@link RESTREAM_MAX_TARGETS}. */
export const MAX_RESTREAM_TARGETS_PER_CHANNEL = RESTREAM_MAX_TARGETS;
export type { RestreamTargetState };

export const restreamEventSchemas = {
  RestreamTargetAdded: z.object({
    channelId: uuid,
    targetId: uuid,
    /** What the owner calls it, e.g. "YouTube". */
    name: z.string().min(1).max(60).superRefine(textRefinement()),
    /** `rtmp://` or `rtmps://` server URL without the stream key. */
    url: z.string().min(8).max(500),
    /** `iv.tag.ciphertext` (AES-256-GCM under STREAM_KEY_SECRET) of the target's stream key. */
    keyCiphertext: z.string().min(10),
  }),
  RestreamTargetRemoved: z.object({ channelId: uuid, targetId: uuid }),
  RestreamTargetEnabled: z.object({ channelId: uuid, targetId: uuid }),
  RestreamTargetDisabled: z.object({ channelId: uuid, targetId: uuid }),
  RestreamTargetStateChanged: z.object({
    channelId: uuid,
    targetId: uuid,
    broadcastId: uuid,
    state: restreamTargetStateSchema,
    /** Why it failed (ffmpeg's last error line, the key redacted), for `failed` and `retrying`; null otherwise. */
    reason: z.string().max(300).nullable(),
    /** When the ingest saw the change (ISO-8601). */
    at: z.iso.datetime({ offset: true }),
  }),
} as const;
