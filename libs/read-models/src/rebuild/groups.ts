/**
 * Which projections a rebuild must build together, and where: projections that write a common table, or where one
 * reads a table another writes, form one rebuild unit (the moderation log reads `chat_messages`, written by
 * chat-messages, which also writes `chat_rooms`, written by chat-rooms: those three are one unit).
 */
import { createHash } from 'node:crypto';
import type { Projection } from '../projections/projection.js';

/** A set of projections rebuilt and switched together. */
export interface RebuildUnit {
  /** The projections, in the registered (run) order. */
  projections: readonly Projection[];
  /** Their names, sorted. */
  names: readonly string[];
  /** Every table they write, sorted; exactly the tables a switch swaps. */
  tables: readonly string[];
  /** Stable key of the unit: `all`, or the sorted names joined (schema-name safe). */
  key: string;
}

/** Unknown projection name or bad declaration. Map to a CLI usage error. */
export class RebuildUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RebuildUsageError';
  }
}

/**
 * The smallest rebuild unit that contains `requested`: the closure under "writes a table that a member writes or
 * reads". `requested = 'all'` gives every projection.
 * @param registered every projection of the app, in run order (`createProjections()` of query-api).
 * @throws {RebuildUsageError} for an unknown name, an empty request, or a projection that declares no tables.
 */
export function rebuildUnit(registered: readonly Projection[], requested: readonly string[] | 'all'): RebuildUnit {
  for (const p of registered) {
    if (!Array.isArray(p.tables) || p.tables.length === 0) throw new RebuildUsageError(`projection "${p.name}" declares no tables (Projection.tables)`);
  }
  const wanted = new Set<string>(requested === 'all' ? registered.map((p) => p.name) : requested);
  if (wanted.size === 0) throw new RebuildUsageError('name at least one projection, or --all');
  const known = new Set(registered.map((p) => p.name));
  const unknown = [...wanted].filter((n) => !known.has(n));
  if (unknown.length > 0) throw new RebuildUsageError(`unknown projection(s): ${unknown.join(', ')} (known: ${[...known].sort().join(', ')})`);
  for (let grown = true; grown; ) {
    grown = false;
    const members = registered.filter((p) => wanted.has(p.name));
    const touched = new Set(members.flatMap((p) => [...p.tables, ...(p.reads ?? [])]));
    const written = new Set(members.flatMap((p) => p.tables));
    for (const p of registered) {
      if (wanted.has(p.name)) continue;
      if (p.tables.some((t) => touched.has(t)) || (p.reads ?? []).some((t) => written.has(t))) {
        wanted.add(p.name);
        grown = true;
      }
    }
  }
  const projections = registered.filter((p) => wanted.has(p.name));
  const names = projections.map((p) => p.name).sort();
  const all = projections.length === registered.length;
  return {
    projections,
    names,
    tables: [...new Set(projections.flatMap((p) => p.tables))].sort(),
    key: all ? 'all' : names.join('_').replace(/[^a-z0-9_]/g, '_'),
  };
}

/**
 * A PostgreSQL schema name `<prefix>_<key>` of at most 63 bytes (longer keys are shortened with a hash).
 * @param prefix e.g. `readmodels_build` or `readmodels_verify`.
 */
export function unitSchema(prefix: string, unit: RebuildUnit): string {
  const name = `${prefix}_${unit.key}`;
  if (name.length <= 63) return name;
  const hash = createHash('sha256').update(unit.key).digest('hex').slice(0, 10);
  return `${name.slice(0, 63 - 11)}_${hash}`;
}
