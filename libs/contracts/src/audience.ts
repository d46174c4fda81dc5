/**
 * The realtime edge's audience commands to command-api over NATS (docs/contracts.md "Analytics"): `audience.sample`
 * (viewer and chatter totals of a live channel) and `audience.viewers-joined` (the viewer keys watching it), with their
 * reply. The edge sends these shapes and command-api validates them with these schemas. Browser-safe: zod only.
 */
import { z } from './zod.js';

/**
 * A viewer key: `account:<accountId>` for a signed-in viewer, `guest:<32 hex>` for a guest (the first 128 bits of an
 * HMAC-SHA256 of the browser's anonymous session id under a secret of the edge, so it cannot be reversed or linked
 * across deployments).
 */
export const viewerKeySchema = z
  .string()
  .regex(/^(account:[0-9a-f-]{36}|guest:[0-9a-f]{32})$/, 'viewer key must be account:<uuid> or guest:<32 hex>');

/** Body of `audience.sample`: totals of a channel over every edge at `sampledAt`, and the edge's sampling period (s). */
export const audienceSampleRequestSchema = z.object({
  channelId: z.uuid(),
  viewers: z.number().int().min(0),
  chatters: z.number().int().min(0),
  sampledAt: z.iso.datetime({ offset: true }),
  intervalSeconds: z.number().int().min(1).max(3600),
});
/** See {@link audienceSampleRequestSchema}. */
export type AudienceSampleRequest = z.infer<typeof audienceSampleRequestSchema>;

/** Most viewer keys in one `audience.viewers-joined` request (the edge sends larger sets in chunks). */
export const MAX_VIEWER_KEYS_PER_REQUEST = 500;

/** Body of `audience.viewers-joined`: viewer keys currently watching the channel on one edge. */
export const audienceViewersJoinedRequestSchema = z.object({
  channelId: z.uuid(),
  viewerKeys: z.array(viewerKeySchema).min(1).max(MAX_VIEWER_KEYS_PER_REQUEST),
});
/** See {@link audienceViewersJoinedRequestSchema}. */
export type AudienceViewersJoinedRequest = z.infer<typeof audienceViewersJoinedRequestSchema>;

/**
 * Reply of the `audience.*` patterns: the live broadcast the command was recorded on and how many events were appended,
 * or a refusal (`not_live`: the channel is offline; `invalid_request`, `internal_error`).
 */
export type AudienceReply = { ok: true; broadcastId: string; recorded: number } | { ok: false; code: string; message: string };
