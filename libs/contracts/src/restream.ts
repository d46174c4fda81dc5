/**
 * Restream / simulcast (issue 10 item 7): the owner's HTTP shapes (command-api `/me/restream-targets`) and the NATS
 * request/reply bodies between the ingest and the command side (`ingest.restream-targets`, `ingest.restream-state`;
 * docs/contracts.md "Restream"). Browser-safe: zod only.
 *
 * A target's stream key crosses a boundary only twice: in the owner's `POST` body, and sealed for the ingest in the
 * `ingest.restream-targets` reply (`keySealed`: AES-256-GCM under RESTREAM_KEY_SECRET, a key only command-api and
 * the ingest hold — not STREAM_KEY_SECRET, under which it is stored). It is never in an HTTP reply, an event on the
 * bus or a log line.
 */
import { z } from './zod.js';

/** Most targets per channel (the restream aggregate's cap). */
export const RESTREAM_MAX_TARGETS = 5;
/** Longest target server URL, characters. */
export const RESTREAM_URL_MAX_LENGTH = 500;
/** Longest target stream key, characters (services use 20–100). */
export const RESTREAM_KEY_MAX_LENGTH = 256;

/**
 * What the ingest reports of a target during a broadcast: `connecting` (ffmpeg started), `live` (media flowing to the
 * target), `failed` (ffmpeg ended with an error; `reason` says which), `retrying` (waiting to reconnect after a
 * failure, `reason` is the last failure), `stopped` (the broadcast ended or the target was disabled).
 */
export const RESTREAM_TARGET_STATES = ['connecting', 'live', 'failed', 'retrying', 'stopped'] as const;
export const restreamTargetStateSchema = z.enum(RESTREAM_TARGET_STATES);
export type RestreamTargetState = z.infer<typeof restreamTargetStateSchema>;

/**
 * Body of `POST /me/restream-targets`. `url` is the service's server URL (`rtmp://` or `rtmps://host[:port]/app`,
 * e.g. YouTube's `rtmp://a.rtmp.youtube.com/live2`), `streamKey` the key the service gave (appended to the URL as the
 * stream name when publishing). The server also refuses private, loopback and link-local hosts (server-side request
 * forgery) unless the deployment allows them (RESTREAM_ALLOW_PRIVATE_TARGETS).
 */
export const restreamTargetAddSchema = z.object({
  name: z.string().trim().min(1, 'name must not be blank').max(60, 'name must be at most 60 characters'),
  url: z
    .string()
    .max(RESTREAM_URL_MAX_LENGTH, `url must be at most ${RESTREAM_URL_MAX_LENGTH} characters`)
    .regex(/^rtmps?:\/\//i, 'url must start with rtmp:// or rtmps://'),
  streamKey: z
    .string()
    .min(1, 'streamKey must not be empty')
    .max(RESTREAM_KEY_MAX_LENGTH, `streamKey must be at most ${RESTREAM_KEY_MAX_LENGTH} characters`)
    .regex(/^[\x21-\x7e]+$/, 'streamKey may contain only printable ASCII without spaces'),
});
export type RestreamTargetAdd = z.infer<typeof restreamTargetAddSchema>;

/** The live state of a target as last reported (null before its first broadcast). */
export const restreamLiveStateSchema = z.object({
  broadcastId: z.uuid(),
  state: restreamTargetStateSchema,
  reason: z.string().nullable(),
  /** ISO-8601 time of the report. */
  at: z.string(),
});

/** A target as the owner sees it: never the key. */
export const restreamTargetViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  url: z.string(),
  enabled: z.boolean(),
  live: restreamLiveStateSchema.nullable(),
});
export type RestreamTargetView = z.infer<typeof restreamTargetViewSchema>;

/** Reply of `GET /me/restream-targets`, oldest first. */
export const restreamTargetListSchema = z.object({ targets: z.array(restreamTargetViewSchema) });
export type RestreamTargetList = z.infer<typeof restreamTargetListSchema>;

/** Body of `ingest.restream-targets`: which live broadcast of which channel asks. */
export const restreamTargetsRequestSchema = z.object({ channelId: z.uuid(), broadcastId: z.uuid() });
export type RestreamTargetsRequest = z.infer<typeof restreamTargetsRequestSchema>;

/** One enabled target for the ingest: `keySealed` is `iv.tag.ciphertext` under RESTREAM_KEY_SECRET. */
export const restreamTargetForIngestSchema = z.object({
  targetId: z.uuid(),
  name: z.string(),
  url: z.string().max(RESTREAM_URL_MAX_LENGTH),
  keySealed: z.string().min(10),
});
export type RestreamTargetForIngest = z.infer<typeof restreamTargetForIngestSchema>;

/** Reply of `ingest.restream-targets`: the channel's enabled targets (empty when none). */
export const restreamTargetsReplySchema = z.object({ targets: z.array(restreamTargetForIngestSchema).max(RESTREAM_MAX_TARGETS) });
export type RestreamTargetsReply = z.infer<typeof restreamTargetsReplySchema>;

/** Body of `ingest.restream-state` (reply `{ ok: true }`): one state change of one target. `reason` ≤ 300 characters, key-free. */
export const restreamStateReportSchema = z.object({
  channelId: z.uuid(),
  broadcastId: z.uuid(),
  targetId: z.uuid(),
  state: restreamTargetStateSchema,
  reason: z.string().max(300).nullable(),
});
export type RestreamStateReport = z.infer<typeof restreamStateReportSchema>;
