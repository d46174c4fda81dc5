/**
 * Pool hygiene for node-postgres: a lost database connection must never end the process.
 *
 * node-postgres emits `'error'` on a `pg.Client` whose connection breaks (server restart, `pg_ctl -m immediate stop`,
 * `pg_terminate_backend`, network loss). pg-pool listens on its idle clients (and re-emits on the pool), but a client
 * checked out with `pool.connect()` has no listener while it is in use (node-postgres docs, "Pooling": "you must
 * attach an error listener to clients you check out"); an error arriving between two queries of a transaction
 * (e.g. the event-store append, a Kysely transaction) is then an uncaught `'error'` event and Node exits.
 * With the listener below the error is absorbed; the client is unqueryable from then on, so its next query rejects
 * with "Client has encountered a connection error and is not queryable" (a transient error, see `backoff.ts`) and
 * pg-pool discards it on release (`!client._queryable`). The caller's error handling (503, retry) does the rest.
 */
import type pg from 'pg';
import { isTransientError } from '../backoff.js';

/**
 * Makes `pool` survive lost connections: absorbs `'error'` of the pool (idle clients) and of every client it opens,
 * including while checked out. Idempotent per pool. `onError` sees each error (for a log line), once per client.
 * @returns `pool`.
 */
export function guardPool<P extends pg.Pool>(pool: P, onError: (err: Error) => void = () => undefined): P {
  const marked = pool as P & { __eventcastGuarded?: boolean };
  if (marked.__eventcastGuarded) return pool;
  marked.__eventcastGuarded = true;
  pool.on('error', () => undefined);
  pool.on('connect', (client: pg.PoolClient) => {
    client.on('error', onError);
  });
  return pool;
}

/**
 * True when `err` (or an error in its `cause` chain) says the database could not be reached or lost the connection:
 * refused/reset connections, connect timeouts, PostgreSQL's connection-class SQLSTATEs (`08…`, `57P01–57P03` shutdown
 * or start-up, `53300` too many connections; PostgreSQL docs, Appendix A). Such a failure changed nothing the caller
 * can rely on and is worth retrying later: HTTP answers 503 with `Retry-After`, NATS replies `unavailable`.
 */
export function isStoreUnavailableError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isTransientError(e)) return true;
  }
  return false;
}
