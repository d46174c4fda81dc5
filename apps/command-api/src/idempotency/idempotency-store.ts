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
-- Every claim is completed by an UPDATE of columns no index covers: with room left on the page it is a HOT update
-- (no new index entries). Full pages made 87 % of them non-HOT at 1,500 chat sends/s (bench/results/command-path.md).
ALTER TABLE idempotency.keys SET (fillfactor = 50);
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
   * {@link begin} for many keys with ONE claiming statement (one commit) instead of one each: the chat's group commit
   * of idempotency records (apps/command-api/src/chat/chat-send-records.ts). Same outcome per item as `begin`; a key
   * that appears twice in `items`, or whose row vanished between the claim and the read, is settled by `begin` alone.
   * @returns one claim per item, in order.
   * @throws the driver's error when PostgreSQL is unreachable (every item fails).
   */
  async beginMany<R>(items: ReadonlyArray<{ scope: string; key: string; fingerprint: string }>): Promise<Array<IdempotencyClaim<R>>> {
    const hashed = items.map((i) => ({ ...i, keyHash: sha256Hex(i.key) }));
    const id = (scope: string, keyHash: string) => `${scope}\u0000${keyHash}`;
    const seen = new Set<string>();
    const first = hashed.filter((h) => !seen.has(id(h.scope, h.keyHash)) && (seen.add(id(h.scope, h.keyHash)), true));
    const claimed = await this.pool.query<{ scope: string; key_hash: string }>(
      `INSERT INTO idempotency.keys AS k (scope, key_hash, fingerprint, state, locked_until, expires_at)
       SELECT t.s, t.h, t.f, 'in_flight', now() + $4 * interval '1 millisecond', now() + $5 * interval '1 second'
       FROM unnest($1::text[], $2::text[], $3::text[]) AS t(s, h, f)
       ON CONFLICT (scope, key_hash) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, state = 'in_flight', response = NULL,
             locked_until = EXCLUDED.locked_until, created_at = now(), expires_at = EXCLUDED.expires_at
         WHERE k.expires_at <= now()
            OR (k.state = 'in_flight' AND k.locked_until <= now() AND k.fingerprint = EXCLUDED.fingerprint)
       RETURNING k.scope, k.key_hash`,
      [first.map((h) => h.scope), first.map((h) => h.keyHash), first.map((h) => h.fingerprint), this.lockMs, this.windowSeconds],
    );
    const won = new Set(claimed.rows.map((r) => id(r.scope, r.key_hash)));
    const lost = first.filter((h) => !won.has(id(h.scope, h.keyHash)));
    const found = new Map<string, { fingerprint: string; state: string; response: R | null }>();
    if (lost.length > 0) {
      const r = await this.pool.query<{ scope: string; key_hash: string; fingerprint: string; state: string; response: R | null }>(
        `SELECT k.scope, k.key_hash, k.fingerprint, k.state, k.response FROM idempotency.keys k
         JOIN unnest($1::text[], $2::text[]) AS t(s, h) ON k.scope = t.s AND k.key_hash = t.h`,
        [lost.map((h) => h.scope), lost.map((h) => h.keyHash)],
      );
      for (const row of r.rows) found.set(id(row.scope, row.key_hash), row);
    }
    const firstOf = new Set(first);
    const out: Array<IdempotencyClaim<R>> = [];
    for (const h of hashed) {
      const k = id(h.scope, h.keyHash);
      const row = found.get(k);
      if (!firstOf.has(h)) out.push(await this.begin<R>(h.scope, h.key, h.fingerprint));
      else if (won.has(k)) out.push({ state: 'claimed', record: { scope: h.scope, keyHash: h.keyHash, fingerprint: h.fingerprint } });
      else if (!row) out.push(await this.begin<R>(h.scope, h.key, h.fingerprint));
      else if (row.fingerprint !== h.fingerprint) out.push({ state: 'mismatch' });
      else if (row.state === 'done' && row.response !== null) out.push({ state: 'replay', response: row.response });
      else out.push({ state: 'in_flight' });
    }
    return out;
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

  /** {@link complete} for many claimed keys in ONE statement (one commit). */
  async completeMany(items: ReadonlyArray<{ record: IdempotencyRecordRef; response: unknown }>): Promise<void> {
    if (items.length === 0) return;
    await this.pool.query(
      `UPDATE idempotency.keys AS k SET state = 'done', response = t.r, locked_until = NULL
       FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) AS t(s, h, f, r)
       WHERE k.scope = t.s AND k.key_hash = t.h AND k.fingerprint = t.f`,
      [items.map((i) => i.record.scope), items.map((i) => i.record.keyHash), items.map((i) => i.record.fingerprint), items.map((i) => JSON.stringify(i.response))],
    );
  }

  /** Forgets a claimed key whose request decided nothing, so that a retry runs again. */
  async release(record: IdempotencyRecordRef): Promise<void> {
    await this.pool.query(
      `DELETE FROM idempotency.keys WHERE scope = $1 AND key_hash = $2 AND fingerprint = $3 AND state = 'in_flight'`,
      [record.scope, record.keyHash, record.fingerprint],
    );
  }

  /** {@link release} for many claimed keys in ONE statement (one commit). */
  async releaseMany(records: readonly IdempotencyRecordRef[]): Promise<void> {
    if (records.length === 0) return;
    await this.pool.query(
      `DELETE FROM idempotency.keys AS k USING unnest($1::text[], $2::text[], $3::text[]) AS t(s, h, f)
       WHERE k.scope = t.s AND k.key_hash = t.h AND k.fingerprint = t.f AND k.state = 'in_flight'`,
      [records.map((r) => r.scope), records.map((r) => r.keyHash), records.map((r) => r.fingerprint)],
    );
  }

  /** Stops purging and closes the pool. */
  async close(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    await this.pool.end();
  }
}
