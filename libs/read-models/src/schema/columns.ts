/**
 * Column helper types shared by every read-model table file. A leaf module: the table files import it, and
 * schema.ts (which composes every table into `DB`) imports them — so no table file imports schema.ts back.
 */
import type { ColumnType } from 'kysely';

/** bigint column: read as a decimal string (pg default), written as bigint/string/number. */
export type BigIntColumn = ColumnType<string, bigint | string | number, bigint | string | number>;

/** Writable-as-JSON-text jsonb column read back parsed. */
export type JsonColumn<T> = ColumnType<T, string, string>;
