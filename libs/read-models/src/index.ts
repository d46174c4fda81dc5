/**
 * @eventcast/read-models: the read side's model as a library. Every projection in one registry (registry.ts),
 * their Kysely schema (schema/) and migrations (migrations/), the projection runner and store catch-up
 * (projections/), projector leadership (leadership/) and the blue/green rebuild engine (rebuild/).
 * Used by query-api (live projector + HTTP queries) and apps/ops (rebuild, verify, status).
 */
export * from './migrations/migrations.js';
export * from './projections/analytics.projection.js';
export * from './projections/api-tokens.projection.js';
export * from './projections/audit.projection.js';
export * from './projections/broadcasts.projection.js';
export * from './projections/channels.projection.js';
export * from './projections/chat-message-batch.js';
export * from './projections/chat-messages.projection.js';
export * from './projections/chat-roles.projection.js';
export * from './projections/chat-rooms.projection.js';
export * from './projections/clips.projection.js';
export * from './projections/emotes.projection.js';
export * from './projections/event-log.js';
export * from './projections/follows.projection.js';
export * from './projections/moderation-log.projection.js';
export * from './projections/projected-log.js';
export * from './projections/projection-runner.js';
export * from './projections/projection-status.js';
export * from './projections/projection.js';
export * from './projections/restream-targets.projection.js';
export * from './projections/store-catch-up.js';
export * from './projections/stream-health.projection.js';
export * from './projections/vods.projection.js';
export * from './projections/webhooks.projection.js';
export * from './rebuild/build-connection.js';
export * from './rebuild/diff.js';
export * from './rebuild/groups.js';
export * from './rebuild/rebuilder.js';
export * from './rebuild/schema-redirect.js';
export * from './rebuild/status.js';
export * from './registry.js';
export * from './schema/analytics-schema.js';
export * from './schema/audit-schema.js';
export * from './schema/columns.js';
export * from './schema/database.js';
export * from './schema/integrations-schema.js';
export * from './schema/restream-schema.js';
export * from './schema/schema.js';
export * from './schema/stream-health-schema.js';
export * from './schema/vod-schema.js';
export * from './uuid.js';
export * from './leadership/projector-leadership.js';
