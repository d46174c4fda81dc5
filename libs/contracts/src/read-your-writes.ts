/**
 * Read-your-writes across the command and query sides (ARCHITECTURE.md invariant 8; docs/contracts.md
 * "Read-your-writes").
 *
 * Whoever has seen an event at global position P (a command's reply, a pushed WebSocket `event` frame, whose
 * `event.globalPosition` is P) asks query-api for a read model at least at P:
 *
 * - request: `GET <any read route>?minPosition=P` (query parameter {@link MIN_POSITION_PARAM}; no CORS pre-flight) or the
 *   header {@link MIN_POSITION_HEADER}: P (when both are given, the larger counts). P is a decimal global position
 *   ({@link globalPositionSchema}); anything else, or a P beyond the event store's head, is refused at once with 400
 *   and code {@link INVALID_MIN_POSITION_CODE}.
 * - query-api waits (bounded by its `QUERY_API_MAX_POSITION_WAIT_MS`, default {@link DEFAULT_MAX_POSITION_WAIT_MS})
 *   until every read model it serves has applied the log up to P, then answers as usual;
 * - every answer of a read route carries {@link POSITION_HEADER}: the global position the read models had reached
 *   when the read began (a lower bound of what the answer reflects; ≥ P after a successful wait);
 * - when P is not reached in time: 503 with `Retry-After` (seconds) and the body {@link PositionNotReachedBody}
 *   (code {@link POSITION_NOT_REACHED_CODE}). The client retries, or reads without `minPosition` and accepts stale data.
 *
 * Both headers are listed in `Access-Control-Expose-Headers` so that browsers on another origin can read them.
 * Browser-safe: zod only.
 */
import { z } from './zod.js';

/** Query parameter carrying the least global position the answer must reflect. */
export const MIN_POSITION_PARAM = 'minPosition';

/** Request header alternative to {@link MIN_POSITION_PARAM} (no `X-` prefix: RFC 6648). */
export const MIN_POSITION_HEADER = 'Eventcast-Min-Position';

/** Response header: the global position (decimal) the read models had reached when the answer was read. */
export const POSITION_HEADER = 'Eventcast-Position';

/** Default bound (ms) of query-api's wait for a `minPosition`; configurable with `QUERY_API_MAX_POSITION_WAIT_MS`. */
export const DEFAULT_MAX_POSITION_WAIT_MS = 2_000;

/** `Retry-After` (seconds) of the 503 answered when a position is not reached in time. */
export const POSITION_RETRY_AFTER_SECONDS = 1;

/** Error code of the 503 answered when the read models do not reach `minPosition` within the bound. */
export const POSITION_NOT_REACHED_CODE = 'position_not_reached';

/** Error code of the 400 answered for a malformed `minPosition`, or one beyond the event store's head. */
export const INVALID_MIN_POSITION_CODE = 'invalid_min_position';

/** Largest global position: PostgreSQL `bigint` (2^63 − 1). */
export const MAX_GLOBAL_POSITION = 9_223_372_036_854_775_807n;

/**
 * A global position as sent on the wire: a decimal string without sign or leading zeros, 0 … 2^63 − 1.
 * Parses to a `bigint`.
 */
export const globalPositionSchema = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,18})$/, 'must be a global position: a decimal integer from 0 to 9223372036854775807 without sign or leading zeros')
  .transform((s) => BigInt(s))
  .refine((n) => n <= MAX_GLOBAL_POSITION, 'must not exceed 9223372036854775807');

/** Body of the 503 answered when the read models have not reached `minPosition` within the bound. */
export const positionNotReachedBodySchema = z.object({
  statusCode: z.literal(503),
  error: z.literal('Service Unavailable'),
  code: z.literal(POSITION_NOT_REACHED_CODE),
  /** Human-readable: which position, how long it waited, where the read models are. */
  message: z.string(),
  /** The position asked for (decimal). */
  minPosition: z.string(),
  /** The position the read models had reached when the wait ended (decimal). */
  position: z.string(),
});
export type PositionNotReachedBody = z.infer<typeof positionNotReachedBodySchema>;

/**
 * Parses a `minPosition` value (query parameter or header).
 * @returns the position, or `null` when `raw` is absent or empty.
 * @throws {Error} with a message naming the parameter when `raw` is not a global position.
 */
export function parseMinPosition(raw: string | undefined | null): bigint | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const parsed = globalPositionSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${MIN_POSITION_PARAM} ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}
