/**
 * PostgreSQL access for the read models: one pg pool, one Kysely instance bound to the `readmodels` schema.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { guardPool } from '@eventcast/event-store';
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
 *   destroying either closes the shared pool. Errors of lost connections are absorbed (the failed query rejects, the pool
 *   replaces the connection).
 */
export function createReadModelDb(databaseUrl: string, maxConnections = 10): { db: ReadModelDb; root: Kysely<unknown> } {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: maxConnections });
  // A connection the server ends (a restart, a failover, pg_terminate_backend) is dropped and the next query opens a
  // new one. Without listeners, its 'error' — on an idle client, or on one Kysely holds for a query or transaction —
  // would be an uncaught exception that ends the process (guardPool in @eventcast/event-store).
  guardPool(pool);
  const root = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const db = (root as unknown as Kysely<DB>).withSchema(READMODELS_SCHEMA);
  return { db, root };
}
