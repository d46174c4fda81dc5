/**
 * PostgreSQL access for the read models: one pg pool, one Kysely instance bound to the `readmodels` schema.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { READMODELS_SCHEMA, type DB } from './schema.js';

/** The read-model database handle used everywhere in this app (queries are qualified with `readmodels.`). */
export type ReadModelDb = Kysely<DB>;

/** Nest injection token for {@link ReadModelDb}. */
export const READ_MODEL_DB = Symbol('READ_MODEL_DB');

/**
 * Opens a pool on `databaseUrl` (no connection is made until the first query).
 * @param databaseUrl `postgres://…` connection string.
 * @param maxConnections pool size (default 10).
 * @returns `db` bound to the `readmodels` schema and `root`, the unbound instance (for migrations);
 *   destroying either closes the shared pool. Errors of idle connections are absorbed (the pool replaces them).
 */
export function createReadModelDb(databaseUrl: string, maxConnections = 10): { db: ReadModelDb; root: Kysely<unknown> } {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: maxConnections });
  // An idle connection the server ends (a restart, a failover, pg_terminate_backend) is dropped from the pool and the
  // next query opens a new one; without a listener its 'error' would be an uncaught exception that ends the process.
  pool.on('error', () => undefined);
  const root = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const db = (root as unknown as Kysely<DB>).withSchema(READMODELS_SCHEMA);
  return { db, root };
}
