/**
 * Typed clients for the command-api, query-api and realtime HTTP contracts (docs/contracts.md), one module per area
 * under ./api/; this barrel keeps `#lib/api.ts` the one import of the pages and components. Every shape comes from
 * `@eventcast/contracts` (the servers implement the same types), and every call throws ApiError on a non-2xx answer
 * or a network failure.
 */
export { ApiError } from './api/http.ts';
export * from './api/accounts.ts';
export * from './api/channels.ts';
export * from './api/chat.ts';
export * from './api/analytics.ts';
export * from './api/integrations.ts';
export * from './api/admin.ts';
export * from './api/vod.ts';
