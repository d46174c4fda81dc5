/**
 * A rebuild's own PostgreSQL connection for build batches, with `COPY … FROM STDIN` inside the batch transaction.
 *
 * Kysely does not hand out the pg client of a transaction, and a COPY on another connection would be outside the
 * transaction that moves the build checkpoints. So each build lane gets a pg pool of exactly ONE connection and a
 * Kysely instance over it: every transaction of that Kysely runs on that client, and {@link BuildConnection.copier}
 * sends its COPY on the same client, queued behind the statements already sent (pg runs a client's queries in
 * submission order), i.e. in the same transaction and in statement order. A crash mid-batch rolls the COPY back with
 * the rest of the batch; the build checkpoints stay where they were (resumable as before).
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { guardPool } from '@eventcast/event-store';
import { from as copyFrom } from 'pg-copy-streams';
import { READMODELS_SCHEMA, type DB } from '../schema/schema.js';
import type { BulkCopy } from '../projections/projection.js';
import { SchemaRedirectPlugin } from './schema-redirect.js';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const quote = (name: string): string => {
  if (!IDENTIFIER.test(name)) throw new Error(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
};

/** One dedicated connection (a pool of size 1) to the read-model database, for one build lane. */
export class BuildConnection {
  private readonly pool: pg.Pool;
  private held: pg.PoolClient | null = null;
  /** Kysely over this connection, not bound to a schema. */
  readonly root: Kysely<unknown>;

  /** @param databaseUrl `postgres://…` of the read-model database (the one the rebuilder's Kysely uses). */
  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    // A connection ended by the server, idle or held, must not be an uncaught exception (see createReadModelDb).
    guardPool(this.pool);
    // With one connection at most, the client checked out is the one of the transaction running now.
    this.pool.on('acquire', (client) => {
      this.held = client;
    });
    this.pool.on('release', (_err, client) => {
      if (this.held === client) this.held = null;
    });
    this.root = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: this.pool }) });
  }

  /** Kysely bound to `readmodels`, every statement redirected to `schema` (as the rebuilder's build runners). */
  db(schema: string): Kysely<DB> {
    return (this.root as unknown as Kysely<DB>).withSchema(READMODELS_SCHEMA).withPlugin(new SchemaRedirectPlugin(READMODELS_SCHEMA, schema));
  }

  /**
   * A {@link BulkCopy} writing `COPY "<schema>"."<table>" (…) FROM STDIN` on this connection. Call it only inside a
   * transaction of {@link db} / {@link root} (the connection is then checked out); the data is sent in one piece.
   * `lookaheadUntil`: the build's look-ahead position, passed on to the projections ({@link BulkCopy.lookaheadUntil}).
   * @throws {Error} when called while no transaction holds the connection, or with table/column names that are not
   *   plain lower-case identifiers; the PostgreSQL error of the COPY otherwise.
   */
  copier(schema: string, lookaheadUntil?: bigint): BulkCopy {
    return {
      ...(lookaheadUntil === undefined ? {} : { lookaheadUntil }),
      copy: async (table, columns, data) => {
        const client = this.held;
        if (!client) throw new Error('BulkCopy.copy called outside a transaction of the build connection');
        const stream = client.query(copyFrom(`COPY ${quote(schema)}.${quote(table)} (${columns.map(quote).join(', ')}) FROM STDIN`));
        await new Promise<void>((resolve, reject) => {
          // The listener stays: after PostgreSQL refused the data (e.g. a duplicate key mid-stream), pg-copy-streams
          // may report a second error while it finishes writing; the first one settles this promise.
          stream.on('error', reject);
          stream.on('finish', resolve);
          // One piece: the whole batch is queued on the socket at once, so nothing of it follows later statements.
          stream.end(data, 'utf8');
        });
        return stream.rowCount;
      },
    };
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.root.destroy();
  }
}
