/**
 * Which domain events reach viewers, and in what shape. Pure: bytes from the bus in, a channel frame (or a reason
 * to skip) out.
 *
 * Only an allowlist of catalog types is relayed (docs/contracts.md: `BroadcastStarted`, `BroadcastEnded`,
 * `ChannelInfoUpdated`, `ChannelLatencyModeChanged`; docs/chat.md: `RELAYED_CHAT_EVENTS` — never `ChatBlockedTermsUpdated` (the list is for
 * moderators only) nor `ChatMessageRefused`); none of them carries secrets, and the payload is the catalog-validated `data` (zod strips
 * unknown fields), so a field added to the wire by mistake is not forwarded either. Metadata is never forwarded.
 */
import { fromWire, RELAYED_CHAT_EVENTS, validateRecorded, type EventType } from '@eventcast/events';
import { encodeFrame, isValidChannel, type RelayedEvent } from './protocol.js';

/** Event types relayed to the topic of the channel named by `data.username`. */
export const RELAYED_EVENT_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  'BroadcastStarted',
  'BroadcastEnded',
  'ChannelInfoUpdated',
  /** The player follows the channel's latency mode while it plays (issue 10 item 2). */
  'ChannelLatencyModeChanged',
  ...RELAYED_CHAT_EVENTS,
]);

/** A decoded bus message: the frame to publish on a channel's topic, or why it is not relayed. */
export type RelayDecision =
  | { relay: true; channel: string; event: RelayedEvent; frame: string; correlationId?: string }
  | { relay: false; reason: 'not_relayed' | 'invalid'; type?: string; id?: string; error?: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a NATS message body (the JSON wire envelope of docs/contracts.md) and decides whether to relay it.
 * Order of checks: JSON → envelope (`fromWire`) → allowlist → payload schema (`validateRecorded`, upcasting old
 * versions) → channel name. Never throws.
 * @param body raw message payload (UTF-8 JSON).
 */
export function decodeRelayable(body: Uint8Array): RelayDecision {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(body));
  } catch {
    return { relay: false, reason: 'invalid', error: 'body is not UTF-8 JSON' };
  }
  let type: string | undefined;
  let id: string | undefined;
  try {
    const recorded = fromWire(json);
    type = recorded.type;
    id = recorded.id;
    if (!RELAYED_EVENT_TYPES.has(recorded.type as EventType)) return { relay: false, reason: 'not_relayed', type, id };
    const event = validateRecorded(recorded);
    // Every allowlisted payload names its channel (`username`) and carries the channel id.
    const data = event.data as { username?: unknown };
    const channel = data.username;
    if (!isValidChannel(channel)) return { relay: false, reason: 'invalid', type, id, error: 'username is not a channel name' };
    const relayed: RelayedEvent = {
      id: event.id,
      type: event.type,
      data: event.data,
      globalPosition: event.globalPosition.toString(),
      occurredAt: event.occurredAt.toISOString(),
    };
    const decision: Extract<RelayDecision, { relay: true }> = { relay: true, channel, event: relayed, frame: encodeFrame({ type: 'event', channel, event: relayed }) };
    // For the edge's log lines only (README "Observability"); metadata itself is never forwarded to viewers.
    if (typeof recorded.metadata.correlationId === 'string') decision.correlationId = recorded.metadata.correlationId;
    return decision;
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { relay: false, reason: 'invalid', type, id, error };
  }
}
