/**
 * In-memory fold of the chat-message events of one runner batch into a handful of set-based statements:
 * sends become rows (one `INSERT … SELECT FROM unnest(<column arrays>)`), deletes and clears are applied to those
 * rows in memory, and what they do to rows of earlier batches becomes two `UPDATE … FROM unnest(…)` statements.
 * The result equals applying the events one by one (what the live path does with batches of one), assuming
 * message ids are unique (they are UUIDs chosen by the chat room aggregate).
 *
 * In a rebuild with a look-ahead ({@link chatMessagesLookahead}: every ChatMessageDeleted and ChatCleared up to a
 * position H is known before the build starts), a new row is written already hidden by the first delete or clear
 * after it up to H, so those events never update stored rows; only deletes and clears after H do. In a chat-heavy
 * log nearly every message is hidden by some clear later on: without the look-ahead that is one update per message.
 */
import { sql, type Transaction } from 'kysely';
import { defaultChatSettings, type EventData, type RecordedDomainEvent } from '@eventcast/events';
import { READMODELS_SCHEMA, type DB } from '../schema/schema.js';
import { copyField, type BuildLookahead, type BulkCopy } from './projection.js';

/** A pending chat_messages row; times are ISO-8601 strings (PostgreSQL parses them), the position a decimal string. */
interface MessageRow {
  id: string;
  channelId: string;
  senderId: string;
  senderName: string;
  senderRole: string;
  text: string;
  maskedTerms: number;
  sentAt: string;
  visibleAt: string;
  deletedAt: string | null;
  deletedBy: string | null;
  position: string;
  /** `bot.name` of the event (integrations), null for people. */
  botName: string | null;
}

/** Who hid messages, when, and (for clears) up to which global position. */
interface Hide {
  channelId: string;
  at: string;
  by: string;
  position: string;
  /** The deleted message (stored deletes). */
  messageId?: string;
}

/** A delete or clear seen by the look-ahead mode: its position, time (ISO-8601 or PostgreSQL text) and moderator. */
interface KnownHide {
  position: bigint;
  at: string;
  by: string;
  /** The channel of a delete (a delete of another channel's message id hides nothing). */
  channelId?: string;
}

const table = (name: string) => sql.table(`${READMODELS_SCHEMA}.${name}`);
const col = <T, K extends keyof T>(rows: readonly T[], key: K): T[K][] => rows.map((r) => r[key]);

/**
 * Collects one batch; call {@link add} per event in global order, then {@link flush} once.
 * With `lookaheadUntil` (H, see the module comment) the deleted state of new rows is computed at flush from the
 * batch's own deletes and clears and the look-ahead tables, and only deletes and clears after H touch stored rows.
 */
export class ChatMessageBatch {
  constructor(private readonly lookaheadUntil?: bigint) {}

  private readonly pending = new Map<string, MessageRow>();
  /** Look-ahead mode: this batch's deletes by message id (lower case) and clears by channel (lower case), in order. */
  private readonly batchDeletes = new Map<string, KnownHide[]>();
  private readonly batchClears = new Map<string, KnownHide[]>();
  /** Look-ahead mode: position of the last event added (the look-ahead is asked only about clears after it). */
  private last = 0n;
  /** Pending rows per channel not yet hidden by a clear of this batch. */
  private readonly openByChannel = new Map<string, MessageRow[]>();
  /** Deletes of rows stored by earlier batches, by `<message id>/<channel id>` (the first delete wins, as sequentially). */
  private readonly storedDeletes = new Map<string, Hide>();
  /** First clear of each channel in this batch: hides the channel's stored rows. */
  private readonly firstClear = new Map<string, Hide>();
  /** Last clear of each channel in this batch: the new `chat_rooms.cleared_at_position`. */
  private readonly lastClear = new Map<string, { username: string; position: string }>();

  /** Folds one ChatMessageSent / ChatMessageDeleted / ChatCleared event in; ignores other types. */
  add(e: RecordedDomainEvent): void {
    const h = this.lookaheadUntil;
    if (h !== undefined) {
      this.last = e.globalPosition;
      if (e.type === 'ChatMessageDeleted') {
        const known = { position: e.globalPosition, at: e.occurredAt.toISOString(), by: e.data.moderatorId, channelId: e.data.channelId.toLowerCase() };
        pushTo(this.batchDeletes, e.data.messageId.toLowerCase(), known);
        // Up to H the look-ahead wrote stored rows already hidden (and pending rows are hidden at flush).
        if (e.globalPosition > h) this.deleted(e.data, known.at, true);
        return;
      }
      if (e.type === 'ChatCleared') {
        const at = e.occurredAt.toISOString();
        pushTo(this.batchClears, e.data.channelId.toLowerCase(), { position: e.globalPosition, at, by: e.data.moderatorId });
        if (e.globalPosition > h) this.cleared(e.data, at, e.globalPosition.toString());
        else this.lastClear.set(e.data.channelId, { username: e.data.username, position: e.globalPosition.toString() });
        return;
      }
    }
    if (e.type === 'ChatMessageSent') this.sent(e.data, e.globalPosition);
    else if (e.type === 'ChatMessageDeleted') this.deleted(e.data, e.occurredAt.toISOString());
    else if (e.type === 'ChatCleared') this.cleared(e.data, e.occurredAt.toISOString(), e.globalPosition.toString());
  }

  /** `sent_at` is the v2 `sentAt` (v1 events get their `occurredAt` from the catalog's upcaster). */
  private sent(d: EventData<'ChatMessageSent'>, position: bigint): void {
    if (this.pending.has(d.messageId)) return;
    const row: MessageRow = {
      id: d.messageId,
      channelId: d.channelId,
      senderId: d.senderId,
      senderName: d.senderName,
      senderRole: d.senderRole,
      text: d.text,
      maskedTerms: d.maskedTerms,
      sentAt: d.sentAt,
      visibleAt: d.visibleAt,
      deletedAt: null,
      deletedBy: null,
      position: position.toString(),
      botName: d.bot?.name ?? null,
    };
    this.pending.set(row.id, row);
    const open = this.openByChannel.get(row.channelId);
    if (open) open.push(row);
    else this.openByChannel.set(row.channelId, [row]);
  }

  /**
   * A delete: hides the pending row of that id (unless `pendingKnown`: the look-ahead mode hides pending rows at
   * flush) and, through one UPDATE at flush, a stored row of that id and channel. Both, because a pending row may be a
   * second send of a stored message id (skipped on insert): the stored row is the one to hide then.
   */
  private deleted(d: EventData<'ChatMessageDeleted'>, at: string, pendingKnown = false): void {
    const row = pendingKnown ? undefined : this.pending.get(d.messageId);
    if (row && row.channelId === d.channelId && row.deletedAt === null) Object.assign(row, { deletedAt: at, deletedBy: d.moderatorId });
    // After a clear of this batch every stored row of the channel is already hidden: nothing left to do. The first
    // delete of an id in a channel wins (a delete naming another channel leaves the message alone).
    const key = `${d.messageId}/${d.channelId}`;
    if (this.firstClear.has(d.channelId) || this.storedDeletes.has(key)) return;
    this.storedDeletes.set(key, { channelId: d.channelId, at, by: d.moderatorId, position: '', messageId: d.messageId });
  }

  private cleared(d: EventData<'ChatCleared'>, at: string, position: string): void {
    // Look-ahead mode: pending rows get their deleted state at flush (hideNewRows), from every hide of the batch.
    for (const row of this.lookaheadUntil === undefined ? (this.openByChannel.get(d.channelId) ?? []) : []) {
      if (row.deletedAt === null) Object.assign(row, { deletedAt: at, deletedBy: d.moderatorId });
    }
    this.openByChannel.delete(d.channelId);
    if (!this.firstClear.has(d.channelId)) this.firstClear.set(d.channelId, { channelId: d.channelId, at, by: d.moderatorId, position });
    this.lastClear.set(d.channelId, { username: d.username, position });
  }

  /**
   * Writes the batch: deletes of stored rows, clears of stored rows (messages after the previous clear and before
   * this batch's first clear), the new clear positions (a chat room created here gets the default settings), then
   * the new messages with their deleted state. At most four statements, none when the batch was empty.
   * With `bulk` (a rebuild's build connection) the new messages go in with `COPY … FROM STDIN` under a savepoint
   * (no column arrays to send and parse), after the updates as always, so the statements of later projections of the
   * batch (the moderation log reads these rows) see them.
   * @throws database errors.
   */
  async flush(trx: Transaction<DB>, bulk?: BulkCopy): Promise<void> {
    const deletes = [...this.storedDeletes.values()].map((h) => ({ ...h, id: h.messageId! }));
    if (deletes.length > 0) {
      await sql`UPDATE ${table('chat_messages')} AS m SET deleted_at = d.at, deleted_by = d.by
        FROM unnest(${col(deletes, 'id')}::uuid[], ${col(deletes, 'channelId')}::uuid[], ${col(deletes, 'at')}::timestamptz[], ${col(deletes, 'by')}::uuid[])
          AS d(id, channel_id, at, by)
        WHERE m.id = d.id AND m.channel_id = d.channel_id AND m.deleted_at IS NULL`.execute(trx);
    }
    const clears = [...this.firstClear.values()];
    if (clears.length > 0) {
      await sql`UPDATE ${table('chat_messages')} AS m SET deleted_at = c.at, deleted_by = c.by
        FROM unnest(${col(clears, 'channelId')}::uuid[], ${col(clears, 'at')}::timestamptz[], ${col(clears, 'by')}::uuid[], ${col(clears, 'position')}::bigint[])
          AS c(channel_id, at, by, position)
        WHERE m.channel_id = c.channel_id AND m.deleted_at IS NULL AND m.global_position < c.position
          AND m.global_position > COALESCE((SELECT r.cleared_at_position FROM ${table('chat_rooms')} AS r WHERE r.channel_id = c.channel_id), 0)`.execute(trx);
    }
    if (this.lastClear.size > 0) {
      const last = [...this.lastClear].map(([channelId, c]) => ({ channelId, ...c }));
      await sql`INSERT INTO ${table('chat_rooms')} (channel_id, username, settings, cleared_at_position)
        SELECT c.channel_id, c.username, ${JSON.stringify(defaultChatSettings)}::jsonb, c.position
        FROM unnest(${col(last, 'channelId')}::uuid[], ${col(last, 'username')}::text[], ${col(last, 'position')}::bigint[]) AS c(channel_id, username, position)
        ON CONFLICT (channel_id) DO UPDATE SET cleared_at_position = excluded.cleared_at_position`.execute(trx);
    }
    const rows = [...this.pending.values()];
    if (rows.length === 0) return;
    if (this.lookaheadUntil !== undefined) await this.hideNewRows(trx, rows, this.lookaheadUntil);
    if (bulk) {
      await sql`SAVEPOINT chat_messages_copy`.execute(trx);
      try {
        await bulk.copy('chat_messages', MESSAGE_COLUMNS, copyLines(rows));
      } catch (err) {
        if ((err as { code?: string }).code !== '23505') throw err; // unique_violation: a message id already stored
        await sql`ROLLBACK TO SAVEPOINT chat_messages_copy`.execute(trx);
        await insertMessages(trx, rows, true);
      }
      await sql`RELEASE SAVEPOINT chat_messages_copy`.execute(trx);
      return;
    }
    if (rows.length < PLAIN_INSERT_ROWS) {
      await insertMessages(trx, rows, true);
      return;
    }
    // Big batches (catch-up, rebuilds): a plain insert (no speculative insertion per row: about a third cheaper),
    // under a savepoint; if a message id is already stored (a duplicate send), redo it with ON CONFLICT DO NOTHING,
    // which is what the plain insert would have done otherwise: the rows are the same either way.
    await sql`SAVEPOINT chat_messages_plain_insert`.execute(trx);
    try {
      await insertMessages(trx, rows, false);
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err; // unique_violation
      await sql`ROLLBACK TO SAVEPOINT chat_messages_plain_insert`.execute(trx);
      await insertMessages(trx, rows, true);
    }
    await sql`RELEASE SAVEPOINT chat_messages_plain_insert`.execute(trx);
  }

  /**
   * Look-ahead mode: sets the deleted state of the new rows to the first delete of the same message (and channel)
   * or clear of the channel after the row, among this batch's events and the look-ahead's (up to `until`): the
   * look-ahead is asked, in two indexed queries, for the deletes of these message ids and, per channel, the first
   * clear after the batch's last event (earlier clears are in the batch). Equal to the sequential rule: a message
   * is hidden by the first delete or clear after it, and keeps its first deletion.
   */
  private async hideNewRows(trx: Transaction<DB>, rows: readonly MessageRow[], until: bigint): Promise<void> {
    // The batch's own hides, joined by the look-ahead's below (flush runs once: no copy needed).
    const deletes = this.batchDeletes;
    const clears = this.batchClears;
    const known = rows.filter((r) => BigInt(r.position) <= until);
    if (known.length > 0) {
      // Both queries are sent at once (the connection runs them back to back): one wait instead of two.
      const ids = known.map((r) => r.id).join(',');
      const deleted = sql<{ id: string; channel: string; position: string; at: string; by: string }>`
        SELECT message_id::text AS id, channel_id::text AS channel, position::text AS position, at::text AS at, by::text AS by
        FROM ${table('chat_lookahead_deletes')} WHERE message_id = ANY(string_to_array(${ids}, ',')::uuid[])`.execute(trx);
      const channels = [...new Set(known.map((r) => r.channelId))].join(',');
      const next =
        this.last < until
          ? sql<{ channel: string; position: string; at: string; by: string }>`
              SELECT ch.id::text AS channel, c.position::text AS position, c.at::text AS at, c.by::text AS by
              FROM unnest(string_to_array(${channels}, ',')::uuid[]) AS ch(id)
              CROSS JOIN LATERAL (SELECT position, at, by FROM ${table('chat_lookahead_clears')} AS c
                WHERE c.channel_id = ch.id AND c.position > ${this.last.toString()}::bigint ORDER BY c.position LIMIT 1) AS c`.execute(trx)
          : Promise.resolve({ rows: [] });
      const [d, c] = await Promise.all([deleted, next]);
      for (const x of d.rows) pushTo(deletes, x.id, { position: BigInt(x.position), at: x.at, by: x.by, channelId: x.channel });
      for (const x of c.rows) pushTo(clears, x.channel, { position: BigInt(x.position), at: x.at, by: x.by });
    }
    for (const row of rows) {
      const position = BigInt(row.position);
      let first: KnownHide | undefined;
      for (const c of clears.get(row.channelId.toLowerCase()) ?? []) {
        if (c.position > position) {
          first = c;
          break;
        }
      }
      const channel = row.channelId.toLowerCase();
      for (const d of deletes.get(row.id.toLowerCase()) ?? []) {
        if (d.position > position && d.channelId === channel && (!first || d.position < first.position)) first = d;
      }
      if (first) Object.assign(row, { deletedAt: first.at, deletedBy: first.by });
    }
  }
}

function pushTo<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Look-ahead tables of a rebuild (see {@link chatMessagesLookahead}), in the build schema only. */
const LOOKAHEAD_DDL = [
  sql`CREATE TABLE ${table('chat_lookahead_deletes')} (message_id uuid NOT NULL, channel_id uuid NOT NULL, position bigint NOT NULL, at timestamptz NOT NULL, by uuid NOT NULL)`,
  sql`CREATE INDEX ON ${table('chat_lookahead_deletes')} (message_id)`,
  sql`CREATE TABLE ${table('chat_lookahead_clears')} (channel_id uuid NOT NULL, position bigint NOT NULL, at timestamptz NOT NULL, by uuid NOT NULL)`,
  sql`CREATE INDEX ON ${table('chat_lookahead_clears')} (channel_id, position)`,
];

/**
 * The chat-messages projection's rebuild look-ahead (see `BuildLookahead` in projection.ts): every ChatMessageDeleted
 * (message id, channel, position, time, moderator) and ChatCleared (channel, position, time, moderator) up to H, in
 * two tables of the build schema. {@link ChatMessageBatch} then writes each new row with its final deleted state.
 */
export const chatMessagesLookahead: BuildLookahead = {
  types: ['ChatMessageDeleted', 'ChatCleared'],
  async store(trx, events, first) {
    if (first) for (const ddl of LOOKAHEAD_DDL) await ddl.execute(trx);
    const deletes = events.filter((e): e is Extract<RecordedDomainEvent, { type: 'ChatMessageDeleted' }> => e.type === 'ChatMessageDeleted');
    const clears = events.filter((e): e is Extract<RecordedDomainEvent, { type: 'ChatCleared' }> => e.type === 'ChatCleared');
    if (deletes.length > 0) {
      await sql`INSERT INTO ${table('chat_lookahead_deletes')} (message_id, channel_id, position, at, by)
        SELECT * FROM unnest(${deletes.map((e) => e.data.messageId)}::uuid[], ${deletes.map((e) => e.data.channelId)}::uuid[],
          ${deletes.map((e) => e.globalPosition.toString())}::bigint[], ${deletes.map((e) => e.occurredAt.toISOString())}::timestamptz[],
          ${deletes.map((e) => e.data.moderatorId)}::uuid[])`.execute(trx);
    }
    if (clears.length > 0) {
      await sql`INSERT INTO ${table('chat_lookahead_clears')} (channel_id, position, at, by)
        SELECT * FROM unnest(${clears.map((e) => e.data.channelId)}::uuid[], ${clears.map((e) => e.globalPosition.toString())}::bigint[],
          ${clears.map((e) => e.occurredAt.toISOString())}::timestamptz[], ${clears.map((e) => e.data.moderatorId)}::uuid[])`.execute(trx);
    }
  },
};

/** Rows from which {@link ChatMessageBatch.flush} tries a plain insert first (two more statements, cheaper rows). */
const PLAIN_INSERT_ROWS = 500;

/** Columns of a chat_messages row, in the order of {@link copyLines}. */
const MESSAGE_COLUMNS = [
  'id',
  'channel_id',
  'sender_id',
  'sender_name',
  'sender_role',
  'text',
  'masked_terms',
  'sent_at',
  'visible_at',
  'deleted_at',
  'deleted_by',
  'global_position',
  'bot_name',
] as const;

/** `rows` in the COPY text format, fields in {@link MESSAGE_COLUMNS} order (the same texts the insert sends). */
function copyLines(rows: readonly MessageRow[]): string {
  let out = '';
  for (const r of rows) {
    out += `${copyField(r.id)}\t${copyField(r.channelId)}\t${copyField(r.senderId)}\t${copyField(r.senderName)}\t${copyField(r.senderRole)}\t${copyField(r.text)}\t${r.maskedTerms}\t${copyField(r.sentAt)}\t${copyField(r.visibleAt)}\t${copyField(r.deletedAt)}\t${copyField(r.deletedBy)}\t${r.position}\t${copyField(r.botName)}\n`;
  }
  return out;
}

/** One `INSERT … SELECT FROM unnest(<column arrays>)` of `rows`, with `ON CONFLICT (id) DO NOTHING` when `skipStored`. */
async function insertMessages(trx: Transaction<DB>, rows: readonly MessageRow[], skipStored: boolean): Promise<void> {
  await sql`INSERT INTO ${table('chat_messages')}
      (id, channel_id, sender_id, sender_name, sender_role, text, masked_terms, sent_at, visible_at, deleted_at, deleted_by, global_position, bot_name)
    SELECT * FROM unnest(${col(rows, 'id')}::uuid[], ${col(rows, 'channelId')}::uuid[], ${col(rows, 'senderId')}::uuid[],
      ${col(rows, 'senderName')}::text[], ${col(rows, 'senderRole')}::text[], ${col(rows, 'text')}::text[], ${col(rows, 'maskedTerms')}::int[],
      ${col(rows, 'sentAt')}::timestamptz[], ${col(rows, 'visibleAt')}::timestamptz[], ${col(rows, 'deletedAt')}::timestamptz[],
      ${col(rows, 'deletedBy')}::uuid[], ${col(rows, 'position')}::bigint[], ${col(rows, 'botName')}::text[])
    ${skipStored ? sql`ON CONFLICT (id) DO NOTHING` : sql``}`.execute(trx);
}
