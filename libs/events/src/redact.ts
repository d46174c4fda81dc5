/**
 * Redaction of personal data and secrets in events: the default of `eventcast-ops replay`, and the webhook URLs of
 * query-api's admin audit trail (one function for both, so they cannot drift).
 *
 * Two rules, both applied to `data` and `metadata`, at any depth:
 * 1. fields named per event type in {@link REDACTED_FIELDS} (what the catalog, libs/events/src, declares as a hash,
 *    ciphertext, address or secret URL);
 * 2. any field whose name matches {@link SENSITIVE_FIELD} (password, secret, hash, ciphertext, e-mail, IP / remote
 *    address, viewer key, token, cookie, authorization), so a field added later is redacted without a code change.
 * Values are replaced by the string {@link REDACTED}; the event's shape is kept.
 */
import { z } from 'zod';
import { eventSchemas, isEventType } from './catalog.js';
import type { RecordedEvent } from './envelope.js';
import { CREDENTIAL_FIELDS } from './wire.js';

/** The replacement value. */
export const REDACTED = '[redacted]';

/**
 * Personal data by event type, beyond the credentials: a publisher's remote address, a viewer's key
 * (libs/events/src/catalog.ts, audience.ts). Published on the bus (consumers need them), redacted in exports.
 */
export const PERSONAL_DATA_FIELDS: Readonly<Record<string, readonly string[]>> = {
  PublishRejected: ['remoteAddress'],
  ViewerJoinedBroadcast: ['viewerKey'],
};

/**
 * Known sensitive fields by event type: the credential fields that never travel on the bus ({@link CREDENTIAL_FIELDS}
 * of wire.ts, e.g. a webhook URL, which often carries a credential in its path or query, Discord/Slack style) merged
 * with {@link PERSONAL_DATA_FIELDS}. Derived, so a secret field added to the wire list cannot be missing here.
 */
export const REDACTED_FIELDS: Readonly<Record<string, readonly string[]>> = mergeFieldLists(CREDENTIAL_FIELDS, PERSONAL_DATA_FIELDS);

/** Per-type union of field lists (each type's fields in first-seen order, without duplicates). */
function mergeFieldLists(...lists: Readonly<Record<string, readonly string[] | undefined>>[]): Record<string, readonly string[]> {
  const out: Record<string, string[]> = {};
  for (const list of lists) {
    for (const [type, fields] of Object.entries(list)) {
      const merged = (out[type] ??= []);
      for (const f of fields ?? []) if (!merged.includes(f)) merged.push(f);
    }
  }
  return out;
}

/** Field names that are redacted in every event and in metadata. */
export const SENSITIVE_FIELD = /password|secret|hash|ciphertext|e-?mail|remote_?address|ip_?address|^ip$|^ips$|viewer_?key|^token$|api_?key|authorization|cookie/i;

const decisions = new Map<string, boolean>();
/** IP-address field names in camel or snake case (`clientIp`, `client_ip`, `ips`), case-sensitive so `zip` is not one. */
export const IP_FIELD = /(?:^ip|[a-z0-9]Ip|_ip|^IP|[a-z0-9]IP)s?$/;

function sensitive(key: string): boolean {
  let d = decisions.get(key);
  if (d === undefined) {
    d = SENSITIVE_FIELD.test(key) || IP_FIELD.test(key);
    decisions.set(key, d);
  }
  return d;
}

function redactValue(value: unknown, extra: readonly string[] | undefined): unknown {
  if (Array.isArray(value)) {
    const list = value as unknown[];
    let out: unknown[] | undefined;
    for (let i = 0; i < list.length; i++) {
      const v = list[i];
      if (v !== null && typeof v === 'object') {
        const r = redactValue(v, undefined);
        if (r !== v) (out ??= [...list])[i] = r;
      }
    }
    return out ?? list;
  }
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key in obj) {
    const v = obj[key];
    if (sensitive(key) || extra?.includes(key)) {
      if (v !== undefined && v !== null) (out ??= { ...obj })[key] = REDACTED;
    } else if (v !== null && typeof v === 'object') {
      const r = redactValue(v, undefined);
      if (r !== v) (out ??= { ...obj })[key] = r;
    }
  }
  return out ?? obj;
}

/**
 * The event with sensitive `data` and `metadata` fields replaced by {@link REDACTED} (a copy when anything changed,
 * the same object otherwise; the input is never mutated).
 */
export function redactEvent<E extends RecordedEvent>(event: E): E {
  const data = redactValue(event.data, REDACTED_FIELDS[event.type]);
  const metadata = redactValue(event.metadata, undefined) as E['metadata'];
  return data === event.data && metadata === event.metadata ? event : { ...event, data, metadata };
}

const typeVerdicts = new Map<string, boolean>();

function propertyNames(schema: unknown, out: Set<string>): void {
  if (Array.isArray(schema)) for (const s of schema) propertyNames(s, out);
  else if (schema !== null && typeof schema === 'object') {
    const o = schema as Record<string, unknown>;
    if (o['properties'] && typeof o['properties'] === 'object') for (const k of Object.keys(o['properties'])) out.add(k);
    for (const v of Object.values(o)) if (v !== null && typeof v === 'object') propertyNames(v, out);
  }
}

/**
 * Whether the CURRENT catalog schema of `type` can hold a field that {@link redactEvent} redacts (from the schema's
 * JSON Schema: every property name at any depth). Stored payloads of the current version were validated against
 * that schema (unknown keys stripped), so `false` means their `data` never needs redaction. `true` for a type
 * outside the catalog or a schema that cannot be inspected. Cached per type.
 */
export function typeMayHoldSecrets(type: string): boolean {
  let v = typeVerdicts.get(type);
  if (v === undefined) {
    if (!isEventType(type)) v = true;
    else if (REDACTED_FIELDS[type] !== undefined) v = true;
    else {
      try {
        const names = new Set<string>();
        propertyNames(z.toJSONSchema(eventSchemas[type]), names);
        v = [...names].some((n) => SENSITIVE_FIELD.test(n) || IP_FIELD.test(n));
      } catch {
        v = true;
      }
    }
    typeVerdicts.set(type, v);
  }
  return v;
}
