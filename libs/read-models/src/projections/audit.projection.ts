/**
 * `admin_audit_log` read model (issue 4 part 6): the account, ingest and integration actions of the audit trail that
 * admins read at `GET /admin/audit` together with `moderation_log` (the moderation half). One row per event of
 * {@link auditAction}; secrets never reach it (no key hashes or ciphertexts, no token hashes, no webhook secrets, no
 * webhook URL: `[redacted]`, with the URL's host in `details`).
 *
 * Deterministic: a row depends only on its event and on rows of this table written for earlier events (the name of a
 * revoked token or a disabled webhook is the one its creating event gave), so a rebuild yields the same rows whatever
 * the batch boundaries.
 */
import type { Transaction } from 'kysely';
import type { AuditCategory } from '@eventcast/contracts';
import { redactEvent, type EventType, type RecordedDomainEvent } from '@eventcast/events';
import type { DB } from '../schema/schema.js';
import type { Projection } from './projection.js';
import { UUID } from '../uuid.js';

/** Readable `action` of each audited event type. */
export const auditAction = {
  AccountRegistered: 'account_registered',
  StreamKeyIssued: 'stream_key_issued',
  StreamKeyRotated: 'stream_key_rotated',
  PublishRejected: 'publish_rejected',
  ApiTokenCreated: 'api_token_created',
  ApiTokenRevoked: 'api_token_revoked',
  WebhookRegistered: 'webhook_registered',
  WebhookDisabled: 'webhook_disabled',
  WebhookEnabled: 'webhook_enabled',
  WebhookDeleted: 'webhook_deleted',
} as const satisfies Partial<Record<EventType, string>>;

/** The audit categories: this table's three, and `moderation` (rows of `moderation_log`). */
export { AUDIT_CATEGORIES, type AuditCategory } from '@eventcast/contracts';

/** Category of each audited event type. */
export const auditCategory: Record<keyof typeof auditAction, Exclude<AuditCategory, 'moderation'>> = {
  AccountRegistered: 'account',
  StreamKeyIssued: 'account',
  StreamKeyRotated: 'account',
  PublishRejected: 'ingest',
  ApiTokenCreated: 'integrations',
  ApiTokenRevoked: 'integrations',
  WebhookRegistered: 'integrations',
  WebhookDisabled: 'integrations',
  WebhookEnabled: 'integrations',
  WebhookDeleted: 'integrations',
};

/** Actions whose `target_name` is (the redaction of) a webhook URL. */
export const WEBHOOK_ACTIONS: ReadonlySet<string> = new Set([auditAction.WebhookRegistered, auditAction.WebhookDisabled, auditAction.WebhookEnabled, auditAction.WebhookDeleted]);

/** The host (`name[:port]`, never user info) of a URL, or null when it does not parse. */
function hostOf(url: string): string | null {
  try {
    return new URL(url).host || null;
  } catch {
    return null;
  }
}

/** A row before the names of earlier targets are filled in. */
export interface AuditRow {
  id: string;
  global_position: string;
  at: Date;
  category: string;
  action: string;
  channel_id: string | null;
  actor_id: string | null;
  actor_name: string | null;
  target_id: string | null;
  target_name: string | null;
  reason: string | null;
  details: string;
}

/** `metadata.actorId` when it is an account id, else `fallback` (the channel owner: only owners manage keys and integrations). */
function actorOf(e: RecordedDomainEvent, fallback: string | null): string | null {
  const a = e.metadata.actorId;
  return typeof a === 'string' && UUID.test(a) ? a : fallback;
}

/**
 * The audit row of one event, or null for types outside {@link auditAction}. `target_name` of a revoke, disable,
 * enable or delete is null here: {@link AuditProjection} fills it from the creating event's row.
 */
export function auditRow(e: RecordedDomainEvent): AuditRow | null {
  if (!(e.type in auditAction)) return null;
  const type = e.type as keyof typeof auditAction;
  const base = {
    id: e.id,
    global_position: e.globalPosition.toString(),
    at: e.occurredAt,
    category: auditCategory[type],
    action: auditAction[type],
    actor_name: null,
    target_id: null,
    target_name: null,
    reason: null,
  };
  const json = (o: Record<string, unknown>) => JSON.stringify(o);
  switch (e.type) {
    case 'AccountRegistered':
      return { ...base, channel_id: e.data.accountId, actor_id: e.data.accountId, actor_name: e.data.username, target_id: e.data.accountId, target_name: e.data.username, details: '{}' };
    case 'StreamKeyIssued':
      return { ...base, channel_id: e.data.channelId, actor_id: actorOf(e, e.data.channelId), target_id: e.data.keyId, details: json({ keyId: e.data.keyId }) };
    case 'StreamKeyRotated':
      return {
        ...base,
        channel_id: e.data.channelId,
        actor_id: actorOf(e, e.data.channelId),
        target_id: e.data.keyId,
        details: json({ keyId: e.data.keyId, previousKeyId: e.data.previousKeyId }),
      };
    case 'PublishRejected':
      // The remote address is kept: the audit trail is for admins only, and refused publishes are how key guessing shows.
      return { ...base, channel_id: e.data.channelId, actor_id: null, reason: e.data.reason, details: json({ remoteAddress: e.data.remoteAddress }) };
    case 'ApiTokenCreated': {
      const d = e.data;
      return { ...base, channel_id: d.channelId, actor_id: actorOf(e, d.channelId), target_id: d.tokenId, target_name: d.name, details: json({ scopes: d.scopes, botName: d.botName, prefix: d.prefix }) };
    }
    case 'ApiTokenRevoked':
      return { ...base, channel_id: e.data.channelId, actor_id: actorOf(e, e.data.channelId), target_id: e.data.tokenId, details: json({ revokedAt: e.data.revokedAt }) };
    case 'WebhookRegistered': {
      // The URL often carries a credential (Discord/Slack-style paths, tokens in the query): redacted exactly as
      // `eventcast-ops replay` redacts it (the shared redactEvent); its host alone is kept to tell webhooks apart.
      const d = redactEvent(e).data;
      return {
        ...base,
        channel_id: d.channelId,
        actor_id: actorOf(e, d.channelId),
        target_id: d.webhookId,
        target_name: d.url,
        details: json({ eventTypes: d.eventTypes, host: hostOf(e.data.url) }),
      };
    }
    case 'WebhookDisabled':
    case 'WebhookEnabled':
    case 'WebhookDeleted':
      return { ...base, channel_id: e.data.channelId, actor_id: actorOf(e, e.data.channelId), target_id: e.data.webhookId, details: '{}' };
    default:
      return null;
  }
}

/** Actions whose target was named by an earlier `…Created`/`…Registered` row. */
const NAMED_BY: Partial<Record<string, string>> = {
  api_token_revoked: auditAction.ApiTokenCreated,
  webhook_disabled: auditAction.WebhookRegistered,
  webhook_enabled: auditAction.WebhookRegistered,
  webhook_deleted: auditAction.WebhookRegistered,
};

/** Projects the events of {@link auditAction} into `admin_audit_log`; a batch is one multi-row insert. */
export class AuditProjection implements Projection {
  readonly name = 'admin-audit';
  readonly tables = ['admin_audit_log'];
  readonly handles = Object.keys(auditAction) as EventType[];

  /** See {@link Projection.apply}. */
  apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void> {
    return this.applyBatch(trx, [event]);
  }

  /**
   * See {@link Projection.applyBatch}. Target names of revokes/disables come from the batch itself first (a multi-row
   * insert does not see its own rows), then from the table.
   */
  async applyBatch(trx: Transaction<DB>, events: readonly RecordedDomainEvent[]): Promise<void> {
    const rows = events.map(auditRow).filter((r): r is AuditRow => r !== null);
    if (rows.length === 0) return;
    const named = new Map<string, string | null>();
    const missing = new Set<string>();
    for (const r of rows) {
      const creator = NAMED_BY[r.action];
      if (creator === undefined) {
        if (r.target_id !== null && r.target_name !== null) named.set(`${r.action}:${r.target_id}`, r.target_name);
      } else if (r.target_id !== null && !named.has(`${creator}:${r.target_id}`)) {
        missing.add(r.target_id);
      }
    }
    if (missing.size > 0) {
      const found = await trx
        .selectFrom('admin_audit_log')
        .select(['action', 'target_id', 'target_name'])
        .where('action', 'in', [auditAction.ApiTokenCreated, auditAction.WebhookRegistered])
        .where('target_id', 'in', [...missing])
        .execute();
      for (const f of found) if (f.target_id !== null && !named.has(`${f.action}:${f.target_id}`)) named.set(`${f.action}:${f.target_id}`, f.target_name);
    }
    for (const r of rows) {
      const creator = NAMED_BY[r.action];
      if (creator !== undefined && r.target_id !== null) r.target_name = named.get(`${creator}:${r.target_id}`) ?? null;
    }
    for (let i = 0; i < rows.length; i += 1000) {
      await trx
        .insertInto('admin_audit_log')
        .values(rows.slice(i, i + 1000))
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }
  }
}
