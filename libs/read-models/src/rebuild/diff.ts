/**
 * Row-by-row comparison of two copies of a read-model table (live vs. rebuilt), inside one transaction.
 * Rows are matched on the primary key (a FULL JOIN, ordered by the key) and compared as whole rows (`to_jsonb`, so
 * every column counts, NULLs included); a table without a primary key is compared as a multiset of rows
 * (`EXCEPT ALL` both ways). Column lists must match too. Nothing is ignored.
 */
import { sql, type Kysely } from 'kysely';

/** One differing row: the key (or the whole row without a key) and both versions (null = missing on that side). */
export interface RowDifference {
  key: Record<string, unknown>;
  live: Record<string, unknown> | null;
  rebuilt: Record<string, unknown> | null;
}

/** Comparison of one table. */
export interface TableDiff {
  table: string;
  liveRows: number;
  rebuiltRows: number;
  /** Number of differing rows (by key), or 1 for a column-list mismatch. */
  differences: number;
  /** Up to `limit` differences, ordered by key. */
  sample: RowDifference[];
  /** Set when the two tables do not even have the same columns. */
  columnMismatch?: { live: string[]; rebuilt: string[] };
}

async function columns(db: Kysely<unknown>, schema: string, table: string): Promise<string[]> {
  const r = await sql<{ c: string }>`SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ${schema} AND table_name = ${table} ORDER BY ordinal_position`.execute(db);
  return r.rows.map((x) => x.c);
}

async function primaryKey(db: Kysely<unknown>, schema: string, table: string): Promise<string[]> {
  const r = await sql<{ c: string }>`SELECT a.attname AS c FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = to_regclass(${`${schema}.${table}`}) AND i.indisprimary
      ORDER BY array_position(i.indkey::int2[], a.attnum)`.execute(db);
  return r.rows.map((x) => x.c);
}

async function count(db: Kysely<unknown>, schema: string, table: string): Promise<number> {
  const r = await sql<{ n: string }>`SELECT count(*)::text AS n FROM ${sql.table(`${schema}.${table}`)}`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * Compares `liveSchema.t` with `rebuiltSchema.t` for each table.
 * @param limit differences sampled per table (default 20); `differences` always counts all of them.
 * @throws database errors (e.g. a missing table).
 */
export async function diffTables(db: Kysely<unknown>, liveSchema: string, rebuiltSchema: string, tables: readonly string[], limit = 20): Promise<TableDiff[]> {
  const out: TableDiff[] = [];
  for (const table of tables) {
    const [liveCols, rebuiltCols] = await Promise.all([columns(db, liveSchema, table), columns(db, rebuiltSchema, table)]);
    const liveRows = await count(db, liveSchema, table);
    const rebuiltRows = await count(db, rebuiltSchema, table);
    if (JSON.stringify(liveCols) !== JSON.stringify(rebuiltCols)) {
      out.push({ table, liveRows, rebuiltRows, differences: 1, sample: [], columnMismatch: { live: liveCols, rebuilt: rebuiltCols } });
      continue;
    }
    const L = sql.table(`${liveSchema}.${table}`);
    const R = sql.table(`${rebuiltSchema}.${table}`);
    const pk = await primaryKey(db, liveSchema, table);
    let rows: { key: Record<string, unknown>; live: Record<string, unknown> | null; rebuilt: Record<string, unknown> | null; total: string }[];
    if (pk.length > 0) {
      // ROW(…) IS NULL: true when the row is missing on that side of the FULL JOIN (key columns are never NULL).
      const keyL = sql`ROW(${sql.join(pk.map((c) => sql`l.${sql.ref(c)}`))})`;
      const keyR = sql`ROW(${sql.join(pk.map((c) => sql`r.${sql.ref(c)}`))})`;
      const keyObj = sql.join(pk.map((c) => sql`${sql.lit(c)}, coalesce(l.${sql.ref(c)}, r.${sql.ref(c)})`));
      const order = sql.join(pk.map((c) => sql`coalesce(l.${sql.ref(c)}, r.${sql.ref(c)})`));
      const on = sql.join(pk.map((c) => sql`l.${sql.ref(c)} = r.${sql.ref(c)}`), sql` AND `);
      const r = await sql<{ key: Record<string, unknown>; live: Record<string, unknown> | null; rebuilt: Record<string, unknown> | null; total: string }>`
        SELECT jsonb_build_object(${keyObj}) AS key,
               CASE WHEN ${keyL} IS NULL THEN NULL ELSE to_jsonb(l) END AS live,
               CASE WHEN ${keyR} IS NULL THEN NULL ELSE to_jsonb(r) END AS rebuilt,
               count(*) OVER ()::text AS total
        FROM ${L} AS l FULL JOIN ${R} AS r ON ${on}
        WHERE (CASE WHEN ${keyL} IS NULL THEN NULL ELSE to_jsonb(l) END) IS DISTINCT FROM (CASE WHEN ${keyR} IS NULL THEN NULL ELSE to_jsonb(r) END)
        ORDER BY ${order}
        LIMIT ${limit}`.execute(db);
      rows = r.rows;
    } else {
      const r = await sql<{ key: Record<string, unknown>; live: Record<string, unknown> | null; rebuilt: Record<string, unknown> | null; total: string }>`
        WITH lo AS (SELECT to_jsonb(l) AS j FROM ${L} AS l EXCEPT ALL SELECT to_jsonb(r) FROM ${R} AS r),
             ro AS (SELECT to_jsonb(r) AS j FROM ${R} AS r EXCEPT ALL SELECT to_jsonb(l) FROM ${L} AS l),
             d AS (SELECT j AS key, j AS live, NULL::jsonb AS rebuilt FROM lo UNION ALL SELECT j, NULL, j FROM ro)
        SELECT key, live, rebuilt, count(*) OVER ()::text AS total FROM d ORDER BY key::text LIMIT ${limit}`.execute(db);
      rows = r.rows;
    }
    out.push({
      table,
      liveRows,
      rebuiltRows,
      differences: Number(rows[0]?.total ?? 0),
      sample: rows.map(({ key, live, rebuilt }) => ({ key, live, rebuilt })),
    });
  }
  return out;
}
