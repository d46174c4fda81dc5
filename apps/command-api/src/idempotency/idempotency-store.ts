/**
 * The idempotency records of the command side (docs/design.md, "Idempotency"): one row per (scope, key) in
 * PostgreSQL table `idempotency.keys`, at DATABASE_URL, remembered for {@link IDEMPOTENCY_WINDOW_SECONDS}.
 *
 * Protocol (after the IETF draft-ietf-httpapi-idempotency-key-header-06 §2 and Stripe's idempotent requests):
 * {@link IdempotencyStore.begin} atomically claims the key (`INSERT … ON CONFLICT DO UPDATE … WHERE` the old row
 * expired or its holder's lock lapsed), or tells the caller what the first request came to: `replay` (its stored
 * response), `in_flight` (still being processed, draft: 409) or `mismatch` (another request used the key, draft: 422).
 * The claimant runs the command, then {@link IdempotencyStore.complete}s with the response to replay, or
 * {@link IdempotencyStore.release}s the key when the outcome says "try again" (nothing was decided).
 * Keys are stored as SHA-256 hashes; the request fingerprint is SHA-256 of what the caller says identifies the request.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { IDEMPOTENCY_WINDOW_SECONDS } from '@eventcast/contracts';
import { applyDdlLocked, guardPool } from '@eventcast/event-store';

/** What {@link IdempotencyStore.begin} found. */
export type IdempotencyClaim<R> =
  | { state: 'claimed'; record: IdempotencyRecordRef }
  | { state: 'replay'; response: R }
  | { state: 'in_flight' }
  | { state: 'mismatch' };

/** A claimed key, to complete or release. */
export interface IdempotencyRecordRef {
  scope: string;
  keyHash: string;
  fingerprint: string;
}

/** Options of {@link IdempotencyStore}. */
export interface IdempotencyStoreOptions {
  /** How long a claim is held before another request may take it over (a crashed holder), ms. Default 30 000. */
  lockMs?: number;
  /** How long a key is remembered, s. Default {@link IDEMPOTENCY_WINDOW_SECONDS} (24 h). */
  windowSeconds?: number;
  /** Pool size. Default 10 (every keyed command takes two short statements). */
  maxConnections?: number;
}

const DDL = `
CREATE SCHEMA IF NOT EXISTS idempotency;
CREATE TABLE IF NOT EXISTS idempotency.keys (
  scope        text NOT NULL,
  key_hash     text NOT NULL,
  fingerprint  text NOT NULL,
  state        text NOT NULL CHECK (state IN ('in_flight', 'done')),
  response     jsonb,
  locked_until timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  PRIMARY KEY (scope, key_hash)
);
CREATE INDEX IF NOT EXISTS keys_expires_at_idx ON idempotency.keys (expires_at);
`;

/** Advisory-lock key serialising concurrent migrations (two-int form, first half). */
const MIGRATION_LOCK = 7_341_011;

/** SHA-256 hex of `parts` joined by NUL. */
export function sha256Hex(...parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}

/** PostgreSQL-backed idempotency records. */
export class IdempotencyStore {
  private readonly pool: pg.Pool;
  private readonly lockMs: number;
  private readonly windowSeconds: number;
  private purgeTimer: NodeJS.Timeout | undefined;

  constructor(connectionString: string, options: IdempotencyStoreOptions = {}) {
    // A client that loses its connection (idle, or checked out mid-query: a PostgreSQL restart) must not crash the
    // process: guardPool absorbs both, as for the event store's pool.
    this.pool = guardPool(new pg.Pool({ connectionString, max: options.maxConnections ?? 10 }));
    this.lockMs = options.lockMs ?? 30_000;
    this.windowSeconds = options.windowSeconds ?? IDEMPOTENCY_WINDOW_SECONDS;
  }

  /** Creates schema `idempotency` and its table when missing (idempotent, safe from several processes at once). */
  async migrate(): Promise<void> {
    await applyDdlLocked(this.pool, MIGRATION_LOCK, DDL);
  }

  /** Deletes expired records now and every `everyMs` (default 10 min; the timer does not keep the process alive). */
  startPurging(everyMs = 600_000, onError: (err: unknown) => void = () => undefined): void {
    const purge = (): void => void this.purgeExpired().catch(onError);
    purge();
    this.purgeTimer = setInterval(purge, everyMs);
    this.purgeTimer.unref();
  }

  /** Deletes the records whose window has passed. @returns how many. */
  async purgeExpired(): Promise<number> {
    const r = await this.pool.query('DELETE FROM idempotency.keys WHERE expires_at <= now()');
    return r.rowCount ?? 0;
  }

  /**
   * Claims `key` in `scope` for a request with `fingerprint`, or reports the first request's outcome.
   * A record whose window passed is a fresh key; an `in_flight` record whose lock lapsed (its holder died or hung)
   * is taken over by a request with the same fingerprint.
   * @throws the driver's error when PostgreSQL is unreachable (the caller answers 503/internal_error).
   */
  async begin<R>(scope: string, key: string, fingerprint: string): Promise<IdempotencyClaim<R>> {
    const keyHash = sha256Hex(key);
    for (let attempt = 0; attempt < 3; attempt++) {
      const claimed = await this.pool.query(
        `INSERT INTO idempotency.keys AS k (scope, key_hash, fingerprint, state, locked_until, expires_at)
         VALUES ($1, $2, $3, 'in_flight', now() + $4 * interval '1 millisecond', now() + $5 * interval '1 second')
         ON CONFLICT (scope, key_hash) DO UPDATE
           SET fingerprint = EXCLUDED.fingerprint, state = 'in_flight', response = NULL,
               locked_until = EXCLUDED.locked_until, created_at = now(), expires_at = EXCLUDED.expires_at
           WHERE k.expires_at <= now()
              OR (k.state = 'in_flight' AND k.locked_until <= now() AND k.fingerprint = EXCLUDED.fingerprint)
         RETURNING 1`,
        [scope, keyHash, fingerprint, this.lockMs, this.windowSeconds],
      );
      if ((claimed.rowCount ?? 0) > 0) return { state: 'claimed', record: { scope, keyHash, fingerprint } };
      const found = await this.pool.query<{ fingerprint: string; state: string; response: R | null }>(
        'SELECT fingerprint, state, response FROM idempotency.keys WHERE scope = $1 AND key_hash = $2',
        [scope, keyHash],
      );
      const row = found.rows[0];
      if (!row) continue; // released between the two statements: claim again
      if (row.fingerprint !== fingerprint) return { state: 'mismatch' };
      if (row.state === 'done' && row.response !== null) return { state: 'replay', response: row.response };
      return { state: 'in_flight' };
    }
    return { state: 'in_flight' };
  }

  /**
   * Waits until the first request of a key in flight completes (polling every `pollMs`), up to `timeoutMs`.
   * @returns its claim state afterwards (`replay` once done; `claimed` when it was released or its lock lapsed and
   *   this caller took the key over; `in_flight` on timeout; `mismatch`).
   */
  async awaitOutcome<R>(scope: string, key: string, fingerprint: string, timeoutMs: number, pollMs = 50): Promise<IdempotencyClaim<R>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const claim = await this.begin<R>(scope, key, fingerprint);
      if (claim.state !== 'in_flight' || Date.now() + pollMs > deadline) return claim;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Stores the response to replay for the claimed key. */
  async complete(record: IdempotencyRecordRef, response: unknown): Promise<void> {
    await this.pool.query(
      `UPDATE idempotency.keys SET state = 'done', response = $4::jsonb, locked_until = NULL
       WHERE scope = $1 AND key_hash = $2 AND fingerprint = $3`,
      [record.scope, record.keyHash, record.fingerprint, JSON.stringify(response)],
    );
  }

  /** Forgets a claimed key whose request decided nothing, so that a retry runs again. */
  async release(record: IdempotencyRecordRef): Promise<void> {
    await this.pool.query(
      `DELETE FROM idempotency.keys WHERE scope = $1 AND key_hash = $2 AND fingerprint = $3 AND state = 'in_flight'`,
      [record.scope, record.keyHash, record.fingerprint],
    );
  }

  /** Stops purging and closes the pool. */
  async close(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    await this.pool.end();
  }
}
