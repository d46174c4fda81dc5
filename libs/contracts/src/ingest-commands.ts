/**
 * The ingest's NATS request/reply commands to command-api (docs/contracts.md "Command request/reply over NATS"):
 * request bodies and replies of `ingest.authorize-publish` (body in ./nats.ts), `ingest.broadcast-start`,
 * `ingest.broadcast-end` and `ingest.node-started`. The ingest's command client sends these shapes and command-api
 * validates them with these schemas, so neither side can change one alone. Replies of the recording, stream-health
 * and restream commands are in ./vod.ts, ./stream-health.ts and ./restream.ts. Browser-safe: zod only.
 */
import { z } from './zod.js';
import { mediaInfoSchema } from './channel-view.js';

/** Why a broadcast ended: the publisher stopped, the ingest restarted (`ingest.node-started`), or an error. */
export const broadcastEndReasonSchema = z.enum(['unpublished', 'ingest_restart', 'error']);
/** One of {@link broadcastEndReasonSchema}. */
export type BroadcastEndReason = z.infer<typeof broadcastEndReasonSchema>;

/** Why the command side refused a publish (recorded as `PublishRejected`). */
export const publishRejectionReasonSchema = z.enum(['malformed_key', 'unknown_channel', 'invalid_key', 'already_live']);
/** One of {@link publishRejectionReasonSchema}. */
export type PublishRejectionReason = z.infer<typeof publishRejectionReasonSchema>;

/**
 * Reply of `ingest.authorize-publish`: allowed (with the channel's id and username, for the HLS path), or refused
 * with a rejection reason — or `invalid_request` (the body failed validation) / `internal_error` (the command side
 * failed), which record nothing.
 */
export type AuthorizePublishReply =
  | { allowed: true; channelId: string; username: string }
  | { allowed: false; reason: PublishRejectionReason | 'invalid_request' | 'internal_error'; message: string };

/** Body of `ingest.broadcast-start`: the broadcast id is chosen by the ingest; `media` as probed from the session. */
export const broadcastStartRequestSchema = z.object({ channelId: z.uuid(), broadcastId: z.uuid(), media: mediaInfoSchema });
/** See {@link broadcastStartRequestSchema}. */
export type BroadcastStartRequest = z.infer<typeof broadcastStartRequestSchema>;

/** Body of `ingest.broadcast-end`. */
export const broadcastEndRequestSchema = z.object({ channelId: z.uuid(), broadcastId: z.uuid(), reason: broadcastEndReasonSchema });
/** See {@link broadcastEndRequestSchema}. */
export type BroadcastEndRequest = z.infer<typeof broadcastEndRequestSchema>;

/** Body of `ingest.node-started`: the ingest node's id (`INGEST_ID`), 1–200 characters. */
export const nodeStartedRequestSchema = z.object({ ingestId: z.string().min(1).max(200) });
/** See {@link nodeStartedRequestSchema}. */
export type NodeStartedRequest = z.infer<typeof nodeStartedRequestSchema>;

/** A refused ingest command (`{ ok: false }`): the command side's error code and message. */
export const ingestCommandFailureSchema = z.object({ ok: z.literal(false), code: z.string(), message: z.string() });
/** See {@link ingestCommandFailureSchema}. */
export type IngestCommandFailure = z.infer<typeof ingestCommandFailureSchema>;

/** Reply of `ingest.broadcast-end` and `ingest.restream-state`. */
export type IngestCommandResult = { ok: true } | IngestCommandFailure;

/**
 * Reply of `ingest.node-started`: how many broadcasts this node had left live were ended; on a failure `ended` is 0
 * with the error's `code` and `message`.
 */
export type NodeStartedReply = { ended: number } | { ended: 0; code: string; message: string };
