/**
 * In-memory fold of the chat-message events of one runner batch into a handful of set-based statements:
 * sends become rows (one `INSERT … SELECT FROM unnest(<column arrays>)`), deletes and clears are applied to those
 * rows in memory, and what they do to rows of earlier batches becomes two `UPDATE … FROM unnest(…)` statements.
 * The result equals applying the events one by one (what the live path does with batches of one), assuming
 * message ids are unique (they are UUIDs chosen by the chat room aggregate).
 */
import { sql, type Transaction } from 'kysely';
import { defaultChatSettings, type EventData, type RecordedDomainEvent } from '@eventcast/events';
import { READMODELS_SCHEMA, type DB } from '../database/schema.js';
import { copyField, type BulkCopy } from './projection.js';

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
}

const table = (name: string) => sql.table(`${READMODELS_SCHEMA}.${name}`);
const col = <T, K extends keyof T>(rows: readonly T[], key: K): T[K][] => rows.map((r) => r[key]);

/** Collects one batch; call {@link add} per event in global order, then {@link flush} once. */
export class ChatMessageBatch {
  private readonly pending = new Map<string, MessageRow>();
  /** Pending rows per channel not yet hidden by a clear of this batch. */
  private readonly openByChannel = new Map<string, MessageRow[]>();
  /** Deletes of rows stored by earlier batches, by message id (the first delete wins, as sequentially). */
  private readonly storedDeletes = new Map<string, Hide>();
  /** First clear of each channel in this batch: hides the channel's stored rows. */
  private readonly firstClear = new Map<string, Hide>();
  /** Last clear of each channel in this batch: the new `chat_rooms.cleared_at_position`. */
  private readonly lastClear = new Map<string, { username: string; position: string }>();

  /** Folds one ChatMessageSent / ChatMessageDeleted / ChatCleared event in; ignores other types. */
  add(e: RecordedDomainEvent): void {
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

  private deleted(d: EventData<'ChatMessageDeleted'>, at: string): void {
    const row = this.pending.get(d.messageId);
    if (row) {
      if (row.channelId === d.channelId && row.deletedAt === null) Object.assign(row, { deletedAt: at, deletedBy: d.moderatorId });
      return;
    }
    // After a clear of this batch every stored row of the channel is already hidden: nothing left to do.
    if (this.firstClear.has(d.channelId) || this.storedDeletes.has(d.messageId)) return;
    this.storedDeletes.set(d.messageId, { channelId: d.channelId, at, by: d.moderatorId, position: '' });
  }

  private cleared(d: EventData<'ChatCleared'>, at: string, position: string): void {
    for (const row of this.openByChannel.get(d.channelId) ?? []) {
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
    const deletes = [...this.storedDeletes].map(([id, h]) => ({ id, ...h }));
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
      const last = [...this.lastClear].map(([channelId, c]) => ({ channelId, ...c }));
      await sql`INSERT INTO ${table('chat_rooms')} (channel_id, username, settings, cleared_at_position)
        SELECT c.channel_id, c.username, ${JSON.stringify(defaultChatSettings)}::jsonb, c.position
        FROM unnest(${col(last, 'channelId')}::uuid[], ${col(last, 'username')}::text[], ${col(last, 'position')}::bigint[]) AS c(channel_id, username, position)
        ON CONFLICT (channel_id) DO UPDATE SET cleared_at_position = excluded.cleared_at_position`.execute(trx);
    }
    const rows = [...this.pending.values()];
    if (rows.length === 0) return;
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
}

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
