/**
 * Public surface of query-api for tests and tooling. The read models themselves (projections, schema, migrations,
 * runner, rebuild engine) are the lib @eventcast/read-models; import them from there, not from this app.
 */
export { bootstrapQueryApi, type RunningQueryApi } from './bootstrap.js';
export { queryApiConfigFromEnv, type QueryApiConfig } from './config.js';
