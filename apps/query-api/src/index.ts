/** Public surface of query-api for tests and tooling. */
export { bootstrapQueryApi, createProjections, type RunningQueryApi } from './bootstrap.js';
export { queryApiConfigFromEnv, type QueryApiConfig } from './config.js';
export { ProjectionRunner, type ApplyResult } from './projections/projection-runner.js';
export type { Projection } from './projections/projection.js';
export { migrateReadModels } from './database/migrations.js';
