/**
 * The published wire form of events (ARCHITECTURE.md invariant 9; docs/contracts.md "NATS: users, permissions, wire
 * form"): what the publisher puts on NATS JetStream. It is the JSON envelope of {@link toWire} minus every credential
 * field listed in {@link CREDENTIAL_FIELDS}, plus the marker `redacted: [<removed field>, …]` (property name
 * `WIRE_REDACTED_PROPERTY` of @eventcast/contracts) when something was removed.
 *
 * The event store keeps the full event. A consumer that needs a removed field (query-api's projections keep token
 * hashes for `chat:read` and webhook secrets for signing) reads the event from the store by its global position;
 * every other consumer (the realtime relay, the webhook dispatcher) never handles these event types.
 */
import { WIRE_REDACTED_PROPERTY, wireRedactionSchema } from '@eventcast/contracts';
import { toWire, type RecordedEvent, type WireEvent } from './envelope.js';
import type { EventType } from './catalog.js';

/**
 * Per event type, the `data` fields that are credential material or a secret's carrier and never travel on the bus:
 * password hashes (Argon2id PHC), stream-key hashes and ciphertexts, API token hashes, webhook signing-secret
 * ciphertexts, restream-target key ciphertexts, and webhook URLs (receivers such as Slack or Discord put their credential in the URL).
 */
export const CREDENTIAL_FIELDS: { readonly [T in EventType]?: readonly string[] } = {
  AccountRegistered: ['passwordHash'],
  PasswordChanged: ['passwordHash'],
  StreamKeyIssued: ['keyHash', 'keyCiphertext'],
  StreamKeyRotated: ['keyHash', 'keyCiphertext'],
  ApiTokenCreated: ['tokenHash'],
  WebhookRegistered: ['url', 'secretCiphertext'],
  RestreamTargetAdded: ['keyCiphertext'],
};

/** A published envelope: the wire form, with the list of removed fields when there were any. */
export type PublishedWireEvent = WireEvent & { [WIRE_REDACTED_PROPERTY]?: string[] };

/**
 * The published form of `event`: {@link toWire} without the {@link CREDENTIAL_FIELDS} of its type (only fields
 * present are listed as removed). Events of other types are returned unchanged.
 * @returns the envelope and the removed field names (empty when nothing was removed).
 */
export function toPublishedWire(event: RecordedEvent): { wire: PublishedWireEvent; redacted: string[] } {
  const wire: PublishedWireEvent = toWire(event);
  const fields = CREDENTIAL_FIELDS[event.type as EventType];
  if (!fields || typeof event.data !== 'object' || event.data === null) return { wire, redacted: [] };
  const data = { ...(event.data as Record<string, unknown>) };
  const redacted = fields.filter((f) => Object.prototype.hasOwnProperty.call(data, f));
  if (redacted.length === 0) return { wire, redacted };
  for (const f of redacted) delete data[f];
  return { wire: { ...wire, data, [WIRE_REDACTED_PROPERTY]: redacted }, redacted };
}

/**
 * The redaction marker of a published envelope (parsed JSON), if any.
 * @returns the removed field names, or null when the envelope carries the full event (no valid marker).
 */
export function redactedFieldsOf(envelope: unknown): string[] | null {
  if (typeof envelope !== 'object' || envelope === null) return null;
  const marker = (envelope as Record<string, unknown>)[WIRE_REDACTED_PROPERTY];
  if (marker === undefined) return null;
  const r = wireRedactionSchema.safeParse(marker);
  // An invalid marker still means "not the full event": never let such a body stand for the stored one.
  return r.success ? r.data : ['(invalid marker)'];
}
