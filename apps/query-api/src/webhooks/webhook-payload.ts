/**
 * Webhook bodies: the public facts of one event, with personal data redacted. Account ids of viewers, moderators and
 * followers, token ids, IP addresses and every secret are left out; names that the channel page shows anyway
 * (chatter, moderator and follower usernames) stay, as in Owncast's webhooks.
 *
 * Body (JSON): `{ type, id, globalPosition, occurredAt, data }` where `id` is the event id, `globalPosition` a decimal
 * string and `data` the redacted payload below, which always has `channel: { id, username }`.
 */
import { WEBHOOK_EVENT_TYPES, type RecordedDomainEvent, type WebhookEventType } from '@eventcast/events';

/** What a delivery POSTs. */
export interface WebhookBody {
  type: WebhookEventType;
  /** Event id (also usable to de-duplicate). */
  id: string;
  globalPosition: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

const SUBSCRIBABLE: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

/** True when webhooks may subscribe to `type`. */
export function isWebhookEventType(type: string): type is WebhookEventType {
  return SUBSCRIBABLE.has(type);
}

/**
 * The channel an event of a subscribable type belongs to, and its redacted body.
 * @returns null for event types webhooks cannot subscribe to.
 */
export function webhookBodyOf(event: RecordedDomainEvent): { channelId: string; body: WebhookBody } | null {
  const data = redact(event);
  if (!data) return null;
  return {
    channelId: data.channelId,
    body: { type: event.type as WebhookEventType, id: event.id, globalPosition: event.globalPosition.toString(), occurredAt: event.occurredAt.toISOString(), data: data.payload },
  };
}

function redact(event: RecordedDomainEvent): { channelId: string; payload: Record<string, unknown> } | null {
  const out = (channelId: string, username: string, rest: Record<string, unknown>) => ({ channelId, payload: { channel: { id: channelId, username }, ...rest } });
  switch (event.type) {
    case 'ChatMessageSent': {
      const d = event.data;
      return out(d.channelId, d.username, {
        messageId: d.messageId,
        senderName: d.senderName,
        senderRole: d.senderRole,
        text: d.text,
        visibleAt: d.visibleAt,
        bot: d.bot ? { name: d.bot.name } : null,
      });
    }
    case 'ChatMessageDeleted': {
      const d = event.data;
      return out(d.channelId, d.username, { messageId: d.messageId, moderatorName: d.moderatorName, reason: d.reason });
    }
    case 'ChatUserBanned': {
      const d = event.data;
      return out(d.channelId, d.username, { userName: d.userName, moderatorName: d.moderatorName, reason: d.reason });
    }
    case 'ChatUserTimedOut': {
      const d = event.data;
      return out(d.channelId, d.username, { userName: d.userName, moderatorName: d.moderatorName, durationSeconds: d.durationSeconds, until: d.until, reason: d.reason });
    }
    case 'BroadcastStarted': {
      const d = event.data;
      return out(d.channelId, d.username, { broadcastId: d.broadcastId, startedAt: d.startedAt, media: d.media });
    }
    case 'BroadcastEnded': {
      const d = event.data;
      return out(d.channelId, d.username, { broadcastId: d.broadcastId, reason: d.reason, endedAt: d.endedAt, durationMs: d.durationMs });
    }
    case 'ChannelInfoUpdated': {
      const d = event.data;
      return out(d.channelId, d.username, { title: d.title, category: d.category });
    }
    case 'ChannelFollowed':
    case 'ChannelUnfollowed': {
      const d = event.data;
      return out(d.channelId, d.username, { followerName: d.followerName });
    }
    default:
      return null;
  }
}
