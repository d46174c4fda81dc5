/**
 * Telling a failed append's cause: the infrastructure (the database is down, a grant is missing: every command would
 * fail) or the appended data (a value the catalog or PostgreSQL refuses, a duplicate event id: this command's fault).
 * The aggregate service's group commit isolates a failing command only in the second case (./aggregate-service.ts).
 */

/**
 * SQLSTATE classes (PostgreSQL Appendix A) that mean the database, not the data: connection exception, invalid
 * authorization, invalid catalog name, transaction rollback (serialization failure, deadlock), syntax error or access
 * rule violation (a missing table, a revoked grant: every command would fail), insufficient resources, object not in
 * prerequisite state (lock not available), operator intervention (shutdown, query cancelled), system error, internal
 * error. Data exceptions (`22…`) and integrity violations (`23…`) are the appended data's fault.
 */
const INFRASTRUCTURE_SQLSTATE_CLASSES = new Set(['08', '28', '3D', '40', '42', '53', '55', '57', '58', 'XX']);

/**
 * True when an append failed because of the infrastructure rather than the appended data: a PostgreSQL error of one
 * of {@link INFRASTRUCTURE_SQLSTATE_CLASSES}, a Node.js system error (`ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, …),
 * node-postgres's connection and pool errors (no SQLSTATE: "Connection terminated…", "timeout exceeded when trying to
 * connect", a closed pool), or an unavailability error of an adapter or of this app (its name says `Unavailable`,
 * `Timeout`, `DeadlineExceeded`, `NotLeader`). Such a failure would fail any command, so group commit fails the
 * attempt instead of isolating a culprit. Anything else (a value the catalog or PostgreSQL refuses, a duplicate
 * event id, `23505`) is the data's fault.
 */
export function isInfrastructureError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, name, message } = err as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (/^[0-9A-Z]{5}$/.test(code)) return INFRASTRUCTURE_SQLSTATE_CLASSES.has(code.slice(0, 2));
    if (/^E[A-Z0-9_]+$/.test(code)) return true;
  }
  if (typeof name === 'string' && /Unavailable|Timeout|DeadlineExceeded|NotLeader/i.test(name)) return true;
  return typeof message === 'string' && /connection terminated|connection error|timeout exceeded when trying to connect|cannot use a pool after calling end|client was closed|not queryable/i.test(message);
}
