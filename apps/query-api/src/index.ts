/** Public surface of query-api for tests and tooling. */
export { bootstrapQueryApi, createProjections, type RunningQueryApi } from './bootstrap.js';
export { queryApiConfigFromEnv, type QueryApiConfig } from './config.js';
export { ProjectionRunner, type ApplyResult } from './projections/projection-runner.js';
export type { Projection } from './projections/projection.js';
export { migrateReadModels } from './database/migrations.js';
export { createReadModelDb, type ReadModelDb } from './database/database.js';
export { READMODELS_SCHEMA } from './database/schema.js';
export {
  DEFAULT_REBUILD_BATCH,
  ProjectionRebuilder,
  RebuildBusyError,
  readPages,
  type RebuildEventSource,
  type RebuildOptions,
  type RebuildProgress,
  type RebuildResult,
  type VerifyResult,
} from './rebuild/rebuilder.js';
export { rebuildUnit, unitSchema, RebuildUsageError, type RebuildUnit } from './rebuild/groups.js';
export { SchemaRedirectPlugin } from './rebuild/schema-redirect.js';
export { diffTables, type TableDiff, type RowDifference } from './rebuild/diff.js';
export { projectionStatus, REBUILD_STALE_MS, type ProjectionStatusReport } from './rebuild/status.js';
