/**
 * zod schemas of the NATS request bodies of CommandPatterns (docs/contracts.md), and the error reply for bad input.
 */
import { z } from 'zod';
import { authorizePublishRequestSchema } from '@eventcast/contracts';
import { broadcastEndReasonSchema, mediaInfoSchema } from '@eventcast/events';

const uuid = z.uuid();

/**
 * `ingest.authorize-publish`: the channel parsed from the key (null when malformed), a one-time proof of the key
 * (never the key or its hash) and the publisher's IP. Declared in @eventcast/contracts (shared with apps/ingest).
 */
export const authorizePublishRequest = authorizePublishRequestSchema;

/** `ingest.broadcast-start`. */
export const broadcastStartRequest = z.object({ channelId: uuid, broadcastId: uuid, media: mediaInfoSchema });

/** `ingest.broadcast-end`. */
export const broadcastEndRequest = z.object({ channelId: uuid, broadcastId: uuid, reason: broadcastEndReasonSchema });

/** `ingest.node-started`. */
export const nodeStartedRequest = z.object({ ingestId: z.string().min(1).max(200) });

/** Reply to a request that failed validation. */
export interface InvalidRequest {
  code: 'invalid_request';
  message: string;
}

/** Parses `input` with `schema`. @returns the data, or an {@link InvalidRequest} naming every bad field. */
export function parseRequest<T>(schema: z.ZodType<T>, input: unknown): { ok: true; data: T } | { ok: false; error: InvalidRequest } {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, data: r.data };
  const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return { ok: false, error: { code: 'invalid_request', message: `invalid request: ${issues.join('; ')}` } };
}
