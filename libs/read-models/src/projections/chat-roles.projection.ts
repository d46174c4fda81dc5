/**
 * `chat_roles` read model: per channel and user, the moderator flag, the ban and the timeout end.
 */
import type { Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import type { ChatRolesTable, DB } from '../schema/schema.js';
import type { Projection } from './projection.js';

type RoleColumn = 'moderator' | 'banned' | 'timed_out_until';
type RoleChange = Partial<Pick<ChatRolesTable, RoleColumn>>;

/** The change one event makes, or null for other types. */
function changeOf(e: RecordedDomainEvent): RoleChange | null {
  switch (e.type) {
    case 'ChatModeratorAdded':
      return { moderator: true };
    case 'ChatModeratorRemoved':
      return { moderator: false };
    case 'ChatUserBanned':
      return { banned: true };
    case 'ChatUserUnbanned':
      return { banned: false, timed_out_until: null };
    case 'ChatUserTimedOut':
      return { timed_out_until: new Date(e.data.until) };
    default:
      return null;
  }
}

/** Net change of a batch for one (channel, user). */
interface Folded {
  channel_id: string;
  user_id: string;
  user_name: string;
  change: RoleChange;
}

/**
 * Projects ChatModeratorAdded/Removed (`moderator`), ChatUserBanned (`banned`), ChatUserUnbanned (clears the ban
 * and any timeout, as Twitch's unban does) and ChatUserTimedOut (`timed_out_until` = the event's `until`).
 * Rows are upserted and never deleted; the user's name is refreshed on every change. A batch is folded per
 * (channel, user) into its net change and written with one multi-row upsert per set of changed columns.
 */
export class ChatRolesProjection implements Projection {
  readonly name = 'chat-roles';
  readonly tables = ['chat_roles'];
  readonly handles: readonly EventType[] = ['ChatModeratorAdded', 'ChatModeratorRemoved', 'ChatUserBanned', 'ChatUserUnbanned', 'ChatUserTimedOut'];

  /** See {@link Projection.apply}. */
  apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    return this.applyBatch(trx, [event]);
  }

  /** See {@link Projection.applyBatch}. */
  async applyBatch(trx: Transaction<DB>, events: readonly RecordedDomainEvent[]): Promise<void> {
    const folded = new Map<string, Folded>();
    for (const e of events) {
      const change = changeOf(e);
      if (!change || !('userId' in e.data)) continue;
      const d = e.data as { channelId: string; userId: string; userName: string };
      const key = `${d.channelId}/${d.userId}`;
      const f = folded.get(key);
      if (f) Object.assign(f, { user_name: d.userName, change: { ...f.change, ...change } });
      else folded.set(key, { channel_id: d.channelId, user_id: d.userId, user_name: d.userName, change });
    }
    const groups = new Map<string, Folded[]>();
    for (const f of folded.values()) {
      const sig = Object.keys(f.change).sort().join(',');
      groups.set(sig, [...(groups.get(sig) ?? []), f]);
    }
    for (const [sig, rows] of groups) {
      const columns = sig.split(',') as RoleColumn[];
      for (let i = 0; i < rows.length; i += 5000) {
        await trx
          .insertInto('chat_roles')
          .values(rows.slice(i, i + 5000).map((f) => ({ channel_id: f.channel_id, user_id: f.user_id, user_name: f.user_name, moderator: false, banned: false, timed_out_until: null, ...f.change })))
          .onConflict((oc) =>
            oc.columns(['channel_id', 'user_id']).doUpdateSet((eb) => ({
              user_name: eb.ref('excluded.user_name'),
              ...(columns.includes('moderator') ? { moderator: eb.ref('excluded.moderator') } : {}),
              ...(columns.includes('banned') ? { banned: eb.ref('excluded.banned') } : {}),
              ...(columns.includes('timed_out_until') ? { timed_out_until: eb.ref('excluded.timed_out_until') } : {}),
            })),
          )
          .execute();
      }
    }
  }
}
