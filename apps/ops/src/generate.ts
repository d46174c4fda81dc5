/**
 * Synthetic event histories for tests and the rebuild/replay benchmark: a realistic, chat-heavy mix of catalog
 * events (accounts, stream keys, channel info, broadcasts, chat with moderation, follows, refused publishes), and a
 * bulk loader that writes them straight into the PostgreSQL store's tables (multi-row `INSERT … SELECT FROM
 * unnest(…)`, thousands of events per statement) — far faster than one append transaction per event, and able to
 * write events in an OLD schema version (upcaster tests).
 *
 * The loader bypasses the append path (expected revisions, validation, NOTIFY): use it only on a store that nobody
 * else appends to at the same time (a fresh test or bench database).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { categoryOf, eventVersions, streams, validateEventData, type EventType } from '@eventcast/events';

/** One event to load: stream, type, schema version, payload, metadata and its `created_at`. */
export interface RawEvent {
  stream: string;
  type: string;
  version: number;
  data: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  occurredAt: Date;
  id?: string;
}

/**
 * Writes `events` in order after the store's current head, in one transaction: positions continue the
 * `eventstore.global_position` counter (its row lock is held, so a concurrent append waits), stream revisions
 * continue `eventstore.streams`.
 * @returns the last global position written.
 * @throws database errors (nothing is written then).
 */
export async function loadEvents(pool: pg.Pool, events: readonly RawEvent[]): Promise<bigint> {
  if (events.length === 0) return 0n;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const counter = await client.query<{ value: string }>('UPDATE eventstore.global_position SET value = value + $1 RETURNING value::text AS value', [events.length]);
    const last = BigInt(counter.rows[0]!.value);
    const first = last - BigInt(events.length) + 1n;
    const names = [...new Set(events.map((e) => e.stream))];
    const current = await client.query<{ stream_name: string; revision: string }>(
      'SELECT stream_name, revision::text AS revision FROM eventstore.streams WHERE stream_name = ANY($1::text[]) FOR UPDATE',
      [names],
    );
    const revision = new Map<string, bigint>(current.rows.map((r) => [r.stream_name, BigInt(r.revision)]));
    const cols = {
      position: [] as string[],
      id: [] as string[],
      stream: [] as string[],
      category: [] as string[],
      revision: [] as string[],
      type: [] as string[],
      version: [] as number[],
      data: [] as string[],
      metadata: [] as string[],
      at: [] as string[],
    };
    events.forEach((e, i) => {
      const r = (revision.get(e.stream) ?? -1n) + 1n;
      revision.set(e.stream, r);
      cols.position.push((first + BigInt(i)).toString());
      cols.id.push(e.id ?? randomUUID());
      cols.stream.push(e.stream);
      cols.category.push(categoryOf(e.stream));
      cols.revision.push(r.toString());
      cols.type.push(e.type);
      cols.version.push(e.version);
      cols.data.push(JSON.stringify(e.data));
      cols.metadata.push(JSON.stringify(e.metadata ?? {}));
      cols.at.push(e.occurredAt.toISOString());
    });
    await client.query(
      `INSERT INTO eventstore.events (global_position, id, stream_name, category, revision, type, version, data, metadata, created_at)
       SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::int[], $8::jsonb[], $9::jsonb[], $10::timestamptz[])`,
      [cols.position, cols.id, cols.stream, cols.category, cols.revision, cols.type, cols.version, cols.data, cols.metadata, cols.at],
    );
    const touched = names.map((n) => [n, categoryOf(n), revision.get(n)!.toString()] as const);
    await client.query(
      `INSERT INTO eventstore.streams (stream_name, category, revision)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
       ON CONFLICT (stream_name) DO UPDATE SET revision = excluded.revision`,
      [touched.map((t) => t[0]), touched.map((t) => t[1]), touched.map((t) => t[2])],
    );
    await client.query('COMMIT');
    return last;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Shape of a generated history. */
export interface MixOptions {
  /** Total events (approximately: the set-up events of users and channels count too). */
  events: number;
  /** Channels with chat (default 50). */
  channels?: number;
  /** Chatters (default 2000). */
  users?: number;
  /** Events per yielded batch (default 10000). */
  batchSize?: number;
  /** Time of the first event (default: `events` × 5 ms before now); events are 5 ms apart. */
  start?: Date;
}

interface User {
  id: string;
  name: string;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/**
 * The mix per 1000 events after set-up: ~880 ChatMessageSent, 20 ChatMessageDeleted, 10 ChatMessageRefused,
 * 5 ChatUserTimedOut, 2 ChatUserBanned, 1 ChatUserUnbanned, 30 ChannelFollowed, 5 ChannelUnfollowed, 2 ChatCleared,
 * 2 ChatSettingsChanged, 1 ChannelInfoUpdated, 2 broadcast starts/ends, 1 PublishRejected, and the rest again chat.
 * Every user first registers (UsernameClaimed, AccountRegistered, StreamKeyIssued for channel owners).
 * All payloads are valid current-version catalog events (one of each type is validated up front).
 * @yields batches of {@link RawEvent} in order.
 */
export function* chatHeavyMix(options: MixOptions): Generator<RawEvent[]> {
  const total = options.events;
  const batchSize = options.batchSize ?? 10_000;
  let t = (options.start ?? new Date(Date.now() - total * 5)).getTime();
  const nUsers = Math.max(2, options.users ?? 2000);
  const nChannels = Math.max(1, Math.min(options.channels ?? 50, nUsers));
  const users: User[] = Array.from({ length: nUsers }, (_, i) => ({ id: randomUUID(), name: `user_${i}_${hex(3)}` }));
  const owners = users.slice(0, nChannels);
  const live = new Map<string, string>(); // channelId -> broadcastId
  const messages: { channel: User; id: string; sender: User }[] = [];
  const version = (type: EventType) => eventVersions[type];
  let batch: RawEvent[] = [];
  let emitted = 0;
  const checked = new Set<string>();
  const push = (stream: string, type: EventType, data: Record<string, unknown>): RawEvent[] | undefined => {
    if (!checked.has(type)) {
      validateEventData(type, version(type), data); // a catalog change fails loudly here
      checked.add(type);
    }
    t += 5;
    batch.push({ stream, type, version: version(type), data, metadata: { correlationId: randomUUID() }, occurredAt: new Date(t) });
    emitted++;
    if (batch.length >= batchSize) {
      const full = batch;
      batch = [];
      return full;
    }
    return undefined;
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(Math.random() * a.length)]!;
  const room = (c: User) => ({ channelId: c.id, username: c.name });
  const mod = (c: User) => ({ moderatorId: c.id, moderatorName: c.name });
  const iso = () => new Date(t).toISOString();

  for (const u of users) {
    const full =
      push(streams.username(u.name), 'UsernameClaimed', { username: u.name, accountId: u.id }) ??
      push(streams.account(u.id), 'AccountRegistered', { accountId: u.id, username: u.name, passwordHash: `$argon2id$v=19$m=65536,t=3,p=4$${hex(16)}$${hex(32)}` });
    if (full) yield full;
  }
  for (const c of owners) {
    const a = push(streams.account(c.id), 'StreamKeyIssued', { channelId: c.id, keyId: randomUUID(), keyHash: hex(32), keyCiphertext: `${hex(12)}.${hex(16)}.${hex(24)}` });
    if (a) yield a;
    const b = push(streams.account(c.id), 'ChannelInfoUpdated', { channelId: c.id, username: c.name, title: `Stream of ${c.name}`, category: 'Games' });
    if (b) yield b;
  }
  while (emitted < total) {
    const c = pick(owners);
    const r = Math.random() * 1000;
    let full: RawEvent[] | undefined;
    if (r < 880 || r >= 962) {
      const sender = pick(users);
      const id = randomUUID();
      messages.push({ channel: c, id, sender });
      if (messages.length > 5000) messages.splice(0, 2500);
      full = push(streams.chat(c.id), 'ChatMessageSent', {
        ...room(c),
        messageId: id,
        senderId: sender.id,
        senderName: sender.name,
        senderRole: sender.id === c.id ? 'owner' : 'viewer',
        text: `message ${emitted} from ${sender.name}: ${hex(8)} kappa`,
        maskedTerms: 0,
        sentAt: iso(),
        visibleAt: iso(),
      });
    } else if (r < 900) {
      const m = pick(messages.length > 0 ? messages : [{ channel: c, id: randomUUID(), sender: c }]);
      full = push(streams.chat(m.channel.id), 'ChatMessageDeleted', { ...room(m.channel), ...mod(m.channel), messageId: m.id, senderId: m.sender.id, reason: 'spam' });
    } else if (r < 910) {
      const s = pick(users);
      full = push(streams.chat(c.id), 'ChatMessageRefused', { ...room(c), senderId: s.id, senderName: s.name, reason: 'blocked_term', refusedAt: new Date(t).toISOString() });
    } else if (r < 915) {
      const s = pick(users);
      full = push(streams.chat(c.id), 'ChatUserTimedOut', { ...room(c), ...mod(c), userId: s.id, userName: s.name, durationSeconds: 600, until: new Date(t + 600_000).toISOString(), reason: 'calm down' });
    } else if (r < 917) {
      const s = pick(users);
      full = push(streams.chat(c.id), 'ChatUserBanned', { ...room(c), ...mod(c), userId: s.id, userName: s.name, reason: 'abuse' });
    } else if (r < 918) {
      const s = pick(users);
      full = push(streams.chat(c.id), 'ChatUserUnbanned', { ...room(c), ...mod(c), userId: s.id, userName: s.name });
    } else if (r < 948) {
      const s = pick(users);
      full = push(streams.follows(c.id), 'ChannelFollowed', { ...room(c), followerId: s.id, followerName: s.name });
    } else if (r < 953) {
      const s = pick(users);
      full = push(streams.follows(c.id), 'ChannelUnfollowed', { ...room(c), followerId: s.id, followerName: s.name });
    } else if (r < 955) {
      full = push(streams.chat(c.id), 'ChatCleared', { ...room(c), ...mod(c) });
    } else if (r < 957) {
      full = push(streams.chat(c.id), 'ChatSettingsChanged', {
        ...room(c),
        ...mod(c),
        settings: { enabled: true, slowModeSeconds: pick([0, 5, 30]), followersOnly: false, messageDelaySeconds: 0, emoteOnly: false, rateLimitMessages: 5, rateLimitWindowSeconds: 10 },
      });
    } else if (r < 958) {
      full = push(streams.account(c.id), 'ChannelInfoUpdated', { channelId: c.id, username: c.name, title: `Now: ${hex(4)}`, category: pick(['Games', 'Music', 'Talk']) });
    } else if (r < 961) {
      const b = live.get(c.id);
      if (b) {
        live.delete(c.id);
        full = push(streams.broadcast(c.id), 'BroadcastEnded', { broadcastId: b, channelId: c.id, username: c.name, reason: 'unpublished', endedAt: iso(), durationMs: 60_000 });
      } else {
        const id = randomUUID();
        live.set(c.id, id);
        full = push(streams.broadcast(c.id), 'BroadcastStarted', {
          broadcastId: id,
          channelId: c.id,
          username: c.name,
          startedAt: iso(),
          media: { videoCodec: 'H264', audioCodec: 'AAC', width: 1280, height: 720, frameRate: 30, videoBitrateKbps: 2500, audioSampleRate: 48000, audioChannels: 2 },
        });
      }
    } else {
      full = push(streams.ingest(c.id), 'PublishRejected', { channelId: c.id, reason: 'invalid_key', remoteAddress: `10.0.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}` });
    }
    if (full) yield full;
  }
  if (batch.length > 0) yield batch;
}
