/**
 * The event catalog: one definition per event type, with its current schema version, its zod schema and the
 * upcasters that lift older stored versions to the current one. Every app imports these; none redefines an event.
 */
import { z } from 'zod';
import {
  broadcastEndReasonSchema,
  latencyModeSchema,
  mediaInfoSchema,
  publishRejectionReasonSchema,
  replaceRefusedCharacters,
  textRefinement,
  type BroadcastEndReason,
  type MediaInfo,
  type PublishRejectionReason,
} from '@eventcast/contracts';
import { InvalidEventError, type NewEvent, type RecordedEvent } from './envelope.js';
import { chatEventSchemas } from './chat.js';
import { audienceEventSchemas } from './audience.js';
import { integrationEventSchemas } from './integrations.js';
import { streamHealthEventSchemas } from './stream-health.js';
import { restreamEventSchemas } from './restream.js';
import { recordingEventSchemas } from './recording.js';
import { sessionEventSchemas } from './sessions.js';

const uuid = z.uuid();
/** Usernames: 3–24 chars of `a-z`, `0-9`, `_`, stored lower-case. */
export const usernameSchema = z
  .string()
  .min(3, 'username must be at least 3 characters')
  .max(24, 'username must be at most 24 characters')
  .regex(/^[a-z0-9_]+$/, 'username may contain only a-z, 0-9 and _');
/** Channel title and category: free text under the text rule of `@eventcast/contracts` (no controls, bidi overrides, lone surrogates). */
export const channelTitleSchema = z.string().max(140, 'title must be at most 140 characters').superRefine(textRefinement());
export const channelCategorySchema = z.string().max(60, 'category must be at most 60 characters').superRefine(textRefinement());

/**
 * Media information probed from an ingest session. Units: pixels, frames/s, kbit/s, Hz. Declared in the contract
 * module (`@eventcast/contracts`, channel-view.ts: query-api's channel views carry it to the web); re-exported here.
 */
export { mediaInfoSchema, type MediaInfo };

/** Why a broadcast ended and why a publish was refused: NATS contracts of the ingest, declared in @eventcast/contracts. */
export { broadcastEndReasonSchema, publishRejectionReasonSchema, type BroadcastEndReason, type PublishRejectionReason };

/** Stream-key material as stored in events: a SHA-256 hash to verify and an AES-256-GCM ciphertext for the owner. */
const streamKeyMaterial = {
  channelId: uuid,
  keyId: uuid,
  /** SHA-256 hex of the full stream key. */
  keyHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** `iv.tag.ciphertext`, base64url parts, AES-256-GCM under STREAM_KEY_SECRET. */
  keyCiphertext: z.string().min(10),
};

/** Current schemas, keyed by event type. */
export const eventSchemas = {
  UsernameClaimed: z.object({ username: usernameSchema, accountId: uuid }),
  AccountRegistered: z.object({
    accountId: uuid,
    username: usernameSchema,
    /** Argon2id PHC string; never a plaintext password. */
    passwordHash: z.string().startsWith('$argon2'),
  }),
  /** The owner changed their password (issue 13 item 2): the old one was checked first; other sessions end with it. */
  PasswordChanged: z.object({
    accountId: uuid,
    /** Argon2id PHC string; never a plaintext password. */
    passwordHash: z.string().startsWith('$argon2'),
  }),
  StreamKeyIssued: z.object(streamKeyMaterial),
  StreamKeyRotated: z.object({ ...streamKeyMaterial, previousKeyId: uuid }),
  ChannelInfoUpdated: z.object({
    channelId: uuid,
    username: usernameSchema,
    title: channelTitleSchema,
    category: channelCategorySchema,
  }),
  /** The owner chose how far behind the live edge viewers play (issue 10 item 2; `@eventcast/contracts` hls.ts). */
  ChannelLatencyModeChanged: z.object({
    channelId: uuid,
    username: usernameSchema,
    latencyMode: latencyModeSchema,
  }),
  BroadcastStarted: z.object({
    broadcastId: uuid,
    channelId: uuid,
    username: usernameSchema,
    /** When ingest accepted the publish (ISO-8601). */
    startedAt: z.iso.datetime({ offset: true }),
    media: mediaInfoSchema,
  }),
  BroadcastEnded: z.object({
    broadcastId: uuid,
    channelId: uuid,
    username: usernameSchema,
    reason: broadcastEndReasonSchema,
    /** When the publisher left (ISO-8601). */
    endedAt: z.iso.datetime({ offset: true }),
    /** Milliseconds from BroadcastStarted to this event. */
    durationMs: z.number().int().nonnegative(),
  }),
  PublishRejected: z.object({
    channelId: uuid.nullable(),
    reason: publishRejectionReasonSchema,
    /** Publisher's IP address as seen by ingest. */
    remoteAddress: z.string().max(64),
  }),
  ...chatEventSchemas,
  ...audienceEventSchemas,
  ...integrationEventSchemas,
  ...streamHealthEventSchemas,
  ...restreamEventSchemas,
  ...recordingEventSchemas,
  ...sessionEventSchemas,
} as const;

export type EventType = keyof typeof eventSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventSchemas)[T]>;

/** Current schema version of every event type. Bump together with an upcaster from the old version. */
export const eventVersions: { readonly [T in EventType]: number } = {
  UsernameClaimed: 1,
  AccountRegistered: 1,
  PasswordChanged: 1,
  StreamKeyIssued: 1,
  StreamKeyRotated: 1,
  ChannelInfoUpdated: 1,
  ChannelLatencyModeChanged: 1,
  BroadcastStarted: 1,
  BroadcastEnded: 1,
  PublishRejected: 1,
  ChatMessageSent: 2,
  ChatMessageRefused: 2,
  ChatMessageDeleted: 1,
  ChatCleared: 1,
  ChatUserTimedOut: 1,
  ChatUserBanned: 1,
  ChatUserUnbanned: 1,
  ChatModeratorAdded: 1,
  ChatModeratorRemoved: 1,
  ChatSettingsChanged: 1,
  ChatBlockedTermsUpdated: 1,
  ChannelEmoteAdded: 1,
  ChannelEmoteRemoved: 1,
  ChannelFollowed: 1,
  ChannelUnfollowed: 1,
  BroadcastViewersSampled: 1,
  ViewerJoinedBroadcast: 1,
  ApiTokenCreated: 1,
  ApiTokenRevoked: 1,
  WebhookRegistered: 1,
  WebhookDisabled: 1,
  WebhookEnabled: 1,
  WebhookDeleted: 1,
  BroadcastHealthSampled: 1,
  PublishInputRefused: 1,
  RestreamTargetAdded: 1,
  RestreamTargetRemoved: 1,
  RestreamTargetEnabled: 1,
  RestreamTargetDisabled: 1,
  RestreamTargetStateChanged: 1,
  ChannelRecordingChanged: 1,
  BroadcastRecorded: 1,
  BroadcastRecordingDeleted: 1,
  ClipCreated: 1,
  ClipDeleted: 1,
  SessionStarted: 1,
  SessionRefreshed: 1,
  SessionEnded: 1,
  AllSessionsEnded: 1,
};

/** Lifts `data` of version `from` to version `from + 1`. */
export type Upcaster = (data: Record<string, unknown>, envelope: UpcastEnvelope) => Record<string, unknown>;

/** What an upcaster may know of the event besides its payload (absent when only bare data is validated). */
export interface UpcastEnvelope {
  /** The recorded event's `occurredAt` (append time), when known. */
  occurredAt?: Date;
  /**
   * The payload was read back from the store or the bus (not about to be appended): text stored before the text rule
   * of `@eventcast/contracts` existed is read with its refused characters replaced by U+FFFD instead of failing
   * (tolerant reader), so no old event can make a fold or a relay throw. Set by {@link validateRecorded}.
   */
  stored?: boolean;
}

/** Upcasters by type and source version: `upcasters[type][v]` turns version v into v + 1. */
export const upcasters: { readonly [T in EventType]?: Readonly<Record<number, Upcaster>> } = {
  ChatMessageSent: {
    /**
     * v1 → v2: adds `sentAt`. v1 producers sent at append time, so the event's `occurredAt` is the best value (what
     * read models used for v1); without an envelope (bare data) `visibleAt` stands in (equal for undelayed messages).
     * An explicit `sentAt` already present is kept.
     */
    1: (data, envelope) => ({
      ...data,
      sentAt: typeof data['sentAt'] === 'string' ? data['sentAt'] : (envelope.occurredAt?.toISOString() ?? data['visibleAt']),
    }),
  },
  ChatMessageRefused: {
    /**
     * v1 → v2: adds `refusedAt`, the event's `occurredAt` (v1 producers decided at append time); without an envelope
     * (bare data) the epoch stands in, so such a refusal counts toward no rate limit. An explicit value is kept.
     */
    1: (data, envelope) => ({
      ...data,
      refusedAt: typeof data['refusedAt'] === 'string' ? data['refusedAt'] : (envelope.occurredAt ?? new Date(0)).toISOString(),
    }),
  },
};

/** A catalog event: the discriminated union of every type with its current payload. */
export type DomainEvent = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];
/** A recorded catalog event, narrowed by `type`. */
export type RecordedDomainEvent = { [T in EventType]: RecordedEvent<T, EventData<T>> }[EventType];

/** True when `type` names an event of the catalog. */
export function isEventType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(eventSchemas, type);
}

/**
 * Validates a payload of `type` at `version`, upcasting older versions to the current one.
 * `envelope` tells upcasters what they may need besides the payload (e.g. `occurredAt`); {@link validateRecorded}
 * passes it.
 * @returns the payload in the current version's shape.
 * @throws {InvalidEventError} for an unknown type, a version newer than the catalog's or without an upcaster path,
 *   or a payload that does not match its schema (the issues list says which fields).
 */
export function validateEventData<T extends EventType>(type: T, version: number, data: unknown, envelope?: UpcastEnvelope): EventData<T>;
export function validateEventData(type: string, version: number, data: unknown, envelope?: UpcastEnvelope): unknown;
export function validateEventData(type: string, version: number, data: unknown, envelope: UpcastEnvelope = {}): unknown {
  if (!isEventType(type)) throw new InvalidEventError(`unknown event type "${type}"`);
  const current = eventVersions[type];
  if (!Number.isInteger(version) || version < 1 || version > current) {
    throw new InvalidEventError(`unknown version ${version} of event type "${type}" (current is ${current})`);
  }
  let value = data;
  for (let v = version; v < current; v++) {
    const up = upcasters[type]?.[v];
    if (!up) throw new InvalidEventError(`no upcaster for "${type}" from version ${v} to ${v + 1}`);
    if (typeof value !== 'object' || value === null) throw new InvalidEventError(`"${type}" v${v} payload must be an object`);
    value = up(value as Record<string, unknown>, envelope);
  }
  let result = eventSchemas[type].safeParse(value);
  if (!result.success && envelope.stored === true) {
    // Only when the strict parse failed: the common path pays nothing for the tolerant reader.
    const repaired = eventSchemas[type].safeParse(repairStoredText(value));
    if (repaired.success) result = repaired;
  }
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new InvalidEventError(`invalid "${type}" payload: ${issues.join('; ')}`, issues);
  }
  return result.data;
}

/** A deep copy of a JSON value with every string passed through `replaceRefusedCharacters` (keys unchanged). */
function repairStoredText(value: unknown): unknown {
  if (typeof value === 'string') return replaceRefusedCharacters(value);
  if (Array.isArray(value)) return value.map(repairStoredText);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, repairStoredText(v)]));
  }
  return value;
}

/**
 * Builds a validated {@link NewEvent} at the current version of its type.
 * @throws {InvalidEventError} when `data` does not match the schema.
 */
export function newEvent<T extends EventType>(type: T, data: EventData<T>, metadata?: NewEvent['metadata']): NewEvent<T, EventData<T>> {
  const valid = validateEventData(type, eventVersions[type], data);
  return metadata ? { type, version: eventVersions[type], data: valid, metadata } : { type, version: eventVersions[type], data: valid };
}

/**
 * Validates (and upcasts) a recorded event read from the store or the bus.
 * @returns the same event with `data` in the current shape and `version` set to the current version.
 * @throws {InvalidEventError} as {@link validateEventData}.
 */
export function validateRecorded(event: RecordedEvent): RecordedDomainEvent {
  const data = validateEventData(event.type, event.version, event.data, { occurredAt: event.occurredAt, stored: true });
  return { ...event, version: eventVersions[event.type as EventType], data } as RecordedDomainEvent;
}
