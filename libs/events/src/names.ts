/**
 * Stream-name and NATS-subject conventions.
 *
 * A stream name is `<category>-<id>`; the category is everything before the first `-`
 * (the convention of EventStoreDB's `$by_category` projection). NATS subjects for domain events
 * are `eventcast.events.<category>.<channel>.<EventType>` ({@link eventSubject}): the channel token lets a realtime
 * edge consume only the channels its viewers watch (docs/design.md "Edge interest").
 */

/** Stream categories used by the catalog. */
export const Category = {
  Account: 'account',
  Username: 'username',
  Broadcast: 'broadcast',
  Ingest: 'ingest',
  Chat: 'chat',
  Follows: 'follows',
  Audience: 'audience',
  Integrations: 'integrations',
  Health: 'health',
  Restream: 'restream',
  Clip: 'clip',
  Session: 'session',
} as const;
export type Category = (typeof Category)[keyof typeof Category];

/** Root of every domain-event subject. */
export const EVENTS_SUBJECT_PREFIX = 'eventcast.events';
/** JetStream stream that stores all domain events. */
export const EVENTS_JETSTREAM = 'EVENTCAST_EVENTS';

/** Builds `<category>-<id>`. @throws {Error} when the category contains `-` or the id is empty. */
export function streamName(category: string, id: string): string {
  if (category.includes('-') || category.length === 0) throw new Error(`invalid stream category "${category}"`);
  if (id.length === 0) throw new Error('stream id must not be empty');
  return `${category}-${id}`;
}

/** The category of a stream name: the text before the first `-` (the whole name when there is none). */
export function categoryOf(stream: string): string {
  const i = stream.indexOf('-');
  return i < 0 ? stream : stream.slice(0, i);
}

/** The id part of a stream name: the text after the first `-`. */
export function idOf(stream: string): string {
  const i = stream.indexOf('-');
  return i < 0 ? '' : stream.slice(i + 1);
}

/** Stream names of the aggregates. */
export const streams = {
  account: (accountId: string) => streamName(Category.Account, accountId),
  /** Reservation stream that makes usernames unique: appended with expected revision `no_stream`. */
  username: (username: string) => streamName(Category.Username, username.toLowerCase()),
  broadcast: (channelId: string) => streamName(Category.Broadcast, channelId),
  ingest: (channelId: string | null) => streamName(Category.Ingest, channelId ?? 'unknown'),
  /** The chat room of a channel: messages, moderation, settings, emotes. */
  chat: (channelId: string) => streamName(Category.Chat, channelId),
  /** Who follows a channel. */
  follows: (channelId: string) => streamName(Category.Follows, channelId),
  /** Viewer samples and unique viewers of one broadcast (analytics). */
  audience: (broadcastId: string) => streamName(Category.Audience, broadcastId),
  /** A channel's API tokens and webhooks (integrations). */
  integrations: (channelId: string) => streamName(Category.Integrations, channelId),
  /** Stream-health samples of one broadcast (issue 10 item 5). */
  broadcastHealth: (broadcastId: string) => streamName(Category.Health, broadcastId),
  /** A channel's restream targets and their live states (issue 10 item 7). */
  restream: (channelId: string) => streamName(Category.Restream, channelId),
  /** One clip: `ClipCreated`, `ClipDeleted` (issue 11 item 5). */
  clip: (clipId: string) => streamName(Category.Clip, clipId),
  /** One sign-in session (refresh-token family): `SessionStarted`, `SessionRefreshed`, `SessionEnded` (issue 13). */
  session: (sessionId: string) => streamName(Category.Session, sessionId),
};

/** Channel token of the subject of an event that names no channel (see {@link eventSubject}). */
export const NO_CHANNEL_TOKEN = '_';

/** A string usable as one NATS subject token: 1–64 characters of `A-Za-z0-9_-` (no `.`, `*`, `>`, whitespace). */
const SUBJECT_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The channel token of an event's subject: the payload's `username` (the channel's public name, which every
 * channel-scoped event relayed to viewers carries, docs/contracts.md) when it is a valid subject token, else
 * {@link NO_CHANNEL_TOKEN} (`_`).
 * @param data the event's payload (any shape; only a string `username` is read).
 */
export function channelTokenOf(data: unknown): string {
  const username = typeof data === 'object' && data !== null ? (data as { username?: unknown }).username : undefined;
  return typeof username === 'string' && SUBJECT_TOKEN.test(username) ? username : NO_CHANNEL_TOKEN;
}

/**
 * NATS subject of one event: `eventcast.events.<category>.<channel>.<type>`, where `<category>` is the stream's
 * category and `<channel>` is {@link channelTokenOf}(`data`) (`_` for events that name no channel).
 * @param stream the event's stream name (`<category>-<id>`).
 * @param type the event type, e.g. `ChatMessageSent`.
 * @param data the event's payload (read for `username` only).
 */
export function eventSubject(stream: string, type: string, data: unknown): string {
  return `${EVENTS_SUBJECT_PREFIX}.${categoryOf(stream)}.${channelTokenOf(data)}.${type}`;
}

/**
 * A filter over event subjects (JetStream consumer `filter_subject`): every part left out is a `*` wildcard.
 * `eventFilter({ channel: 'alice' })` → `eventcast.events.*.alice.*` (all events of channel `alice`);
 * `eventFilter({ category: 'broadcast' })` → `eventcast.events.broadcast.*.*`.
 */
export function eventFilter(parts: { category?: string; channel?: string; type?: string }): string {
  return `${EVENTS_SUBJECT_PREFIX}.${parts.category ?? '*'}.${parts.channel ?? '*'}.${parts.type ?? '*'}`;
}

/** Request/reply patterns answered by the command side (@nestjs/microservices NATS transport). */
export const CommandPatterns = {
  AuthorizePublish: 'ingest.authorize-publish',
  BroadcastStart: 'ingest.broadcast-start',
  BroadcastEnd: 'ingest.broadcast-end',
  IngestNodeStarted: 'ingest.node-started',
  /** A stream-health sample of a live broadcast from the ingest: see docs/contracts.md "Stream health". */
  HealthSample: 'ingest.health-sample',
  /** A publish the ingest refused for its media (no video, unsupported codec): see docs/contracts.md "Stream health". */
  InputRefused: 'ingest.input-refused',
  /** A chat message from the realtime edge: see docs/chat.md. */
  ChatSend: 'chat.send',
  /** The chat messages an edge received in one event-loop turn, as one request: see docs/chat.md. */
  ChatSendBatch: 'chat.send-batch',
  /** A viewer-count sample of a channel from the realtime edge: see docs/contracts.md "Analytics". */
  AudienceSample: 'audience.sample',
  /** Viewer keys seen on a channel by the realtime edge: see docs/contracts.md "Analytics". */
  AudienceViewersJoined: 'audience.viewers-joined',
  /** The enabled restream targets of a live channel, keys sealed for the ingest: see docs/contracts.md "Restream". */
  RestreamTargets: 'ingest.restream-targets',
  /** A restream target's state change reported by the ingest (→ RestreamTargetStateChanged). */
  RestreamState: 'ingest.restream-state',
  /** A broadcast's recording is complete in storage (→ BroadcastRecorded): see docs/contracts.md "Recordings". */
  BroadcastRecorded: 'ingest.broadcast-recorded',
} as const;
