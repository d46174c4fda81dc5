/**
 * Redaction of replayed events: the one implementation lives in @eventcast/events (libs/events/src/redact.ts), shared
 * with query-api's admin audit trail; re-exported here for the ops modules and their tests.
 */
export { IP_FIELD, REDACTED, REDACTED_FIELDS, SENSITIVE_FIELD, redactEvent, typeMayHoldSecrets } from '@eventcast/events';
