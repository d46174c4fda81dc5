/**
 * The NATS bus (ARCHITECTURE.md invariant 9, docs/contracts.md "NATS: users, permissions, wire form"): who connects,
 * which environment variables carry a process's credentials, how a published event says that credential fields were
 * taken out, and the body of `ingest.authorize-publish` (a one-time proof instead of the stream key's hash).
 *
 * Browser-safe (zod only). The proof's HMAC is computed by `createPublishProof` / `verifyPublishProof` of
 * @eventcast/platform (Node crypto); this module only fixes its shape and limits.
 */
import { z } from './zod.js';

/**
 * The NATS users of the platform, one per app (the NATS user name is the app name). Each has its own password and
 * only the subjects its app needs (docs/contracts.md). The web app and `eventcast-ops` do not use NATS.
 */
export const NATS_APP_USERS = ['command-api', 'query-api', 'realtime', 'ingest'] as const;
export type NatsAppUser = (typeof NATS_APP_USERS)[number];

/** Environment variables of one process's NATS credentials (read by `natsConnectionOptions` of @eventcast/platform). */
export const NATS_USER_ENV = 'NATS_USER';
export const NATS_PASSWORD_ENV = 'NATS_PASSWORD';

/**
 * Name of the variable that holds `app`'s password in `.eventcast/secrets.env`, e.g. `NATS_PASSWORD_COMMAND_API`.
 * The launcher hands each app only its own, as {@link NATS_USER_ENV} / {@link NATS_PASSWORD_ENV}.
 */
export function natsPasswordSecretName(app: NatsAppUser): string {
  return `NATS_PASSWORD_${app.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * Inbox prefix of `app`'s connection (`inboxPrefix` of nats.js): replies and JetStream API answers for this app
 * arrive under `<prefix>.>`, which only this app may subscribe to — no app can read another's replies.
 */
export function natsInboxPrefix(app: NatsAppUser): string {
  return `_INBOX_${app.replace(/-/g, '_')}`;
}

/**
 * Header of a published event message listing, comma-separated, the `data` fields the publisher removed because
 * they are credential material (see `CREDENTIAL_FIELDS` of @eventcast/events). The JSON body says the same in
 * {@link WIRE_REDACTED_PROPERTY}.
 */
export const EVENT_REDACTED_HEADER = 'Eventcast-Redacted';

/**
 * Property of the published JSON envelope listing the `data` fields removed (absent when nothing was removed).
 * A consumer that needs those fields reads the event from the event store by its global position.
 */
export const WIRE_REDACTED_PROPERTY = 'redacted';

/** The redaction marker: non-empty list of removed `data` field names. */
export const wireRedactionSchema = z.array(z.string().min(1).max(64)).min(1).max(16);

/** How far (ms) a publish proof's `issuedAt` may be from the command side's clock, either way: 30 s. */
export const PUBLISH_PROOF_WINDOW_MS = 30_000;

/**
 * One-time proof of knowing a stream key, sent instead of the key or its hash:
 * `mac = HMAC-SHA256(key = SHA-256(streamKey) bytes, "eventcast-publish-v1\n<channelId>\n<nonce>\n<issuedAt>")`
 * in lowercase hex (RFC 2104 HMAC). `nonce`: 16 random bytes as 32 hex chars, never reused; `issuedAt`: Unix ms.
 * The command side recomputes it with the channel's current key hash, checks the window and refuses a nonce it has
 * seen within the window (replay).
 */
export const publishProofSchema = z.object({
  nonce: z.string().regex(/^[0-9a-f]{32}$/, 'proof.nonce must be 32 lowercase hex characters'),
  issuedAt: z.number().int().nonnegative(),
  mac: z.string().regex(/^[0-9a-f]{64}$/, 'proof.mac must be 64 lowercase hex characters'),
});
export type PublishProof = z.infer<typeof publishProofSchema>;

/**
 * Body of `ingest.authorize-publish`: the channel parsed from the key (null when the key is malformed), the proof,
 * and the publisher's IP (cut to the 64 characters PublishRejected keeps).
 */
export const authorizePublishRequestSchema = z.object({
  channelId: z.uuid().nullable(),
  proof: publishProofSchema,
  remoteAddress: z.string().transform((s) => s.slice(0, 64)),
});
export type AuthorizePublishRequest = z.input<typeof authorizePublishRequestSchema>;
