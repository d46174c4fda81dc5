/**
 * @eventcast/contracts — the one contract module (ARCHITECTURE.md, "Contracts").
 *
 * Every shape that crosses a process boundary is declared here once and imported by both sides, the web app
 * included: HTTP request/response shapes and headers, WebSocket frames and close codes, NATS request/reply payloads,
 * error-code unions, shared limits and defaults. Browser-safe: no Node built-ins, only zod.
 *
 * One file per concern; this barrel re-exports them.
 */
export * from './usernames.js';
export * from './moderation.js';
export * from './ingest.js';
export * from './idempotency.js';
export * from './realtime.js';
export * from './nats.js';
export * from './text.js';
export * from './read-your-writes.js';
export * from './auth-throttling.js';
export * from './channels.js';
export * from './hls.js';
export * from './latency.js';
export * from './channel-view.js';
export * from './stream-health.js';
export * from './restream.js';
export * from './ingest-health.js';
export * from './vod.js';
export * from './chat.js';
export * from './integrations.js';
export * from './admin.js';
export * from './ingest-commands.js';
export * from './accounts.js';
export * from './analytics.js';
export * from './audience.js';
export * from './rate-limits.js';
