/**
 * Hot-path command handling with an in-memory cache of aggregate state and group commit (used by chat, where every
 * message is a command).
 *
 * Per stream it keeps `{ state, revision }` in an LRU. Commands on one stream go through one lane per process: while
 * the stream's append is in flight, the following commands queue; when it completes, the lane takes every queued
 * command (up to `maxGroupSize`), decides them one after another on the evolving state (a refused command gets its
 * error and contributes no events), appends ALL resulting events in ONE append with the expected revision, and only
 * then settles each caller. So at a steady rate the stream sees one append transaction per round trip instead of one
 * per command, and a burst costs about two appends.
 *
 * Correctness never rests on the cache: every group is appended with expected revision = the revision its state was
 * folded up to. A stale cache (another instance or writer appended) makes the append fail with
 * WrongExpectedRevisionError, after which the stream is caught up (`readStream(stream, { from: revision + 1 })`) and
 * the WHOLE group is decided again on the fresh state. That is also why the pre-read is skipped when the cached entry
 * was produced by this process's own append and no conflict was seen on the stream lately: the append's expected
 * revision still protects it. A group that produces no events (all refused, or no-ops) has no append to confirm its
 * state, so when it was decided on an unconfirmed cache the stream is caught up first and, if it moved, the group is
 * decided again: a refusal is always decided on state that was current at some point after the command arrived.
 *
 * One command never fails another (ARCHITECTURE.md invariant 7, issue 9): when a group's append fails with anything
 * but WrongExpectedRevisionError or an infrastructure failure ({@link isInfrastructureError}) — a payload the
 * catalog or PostgreSQL refuses (e.g. `22P05` for `\u0000` in jsonb), a duplicate event id (`23505`) — the group is
 * isolated: with a single command that added events, that command fails alone and the rest is decided and appended
 * again without it; otherwise the group is split in two halves, committed one after the other (bisection), until
 * the failing commands stand alone. Each half is decided afresh, so the commands after a failed one never see its
 * events. An infrastructure failure (database down) fails the commands of that attempt, as before.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { validateRecorded, type DomainEvent, type EventMetadata } from '@eventcast/events';
import type { Decider } from '@eventcast/domain';
import { WrongExpectedRevisionError, type EventStore } from '@eventcast/event-store';
import type { CommandOutcome } from './handle-command.js';
import { LruCache } from './lru-cache.js';

const PAGE = 1000;

/** A cached aggregate: folded state and the stream's last revision (null: the stream does not exist yet). */
export interface CachedAggregate<S> {
  state: S;
  revision: bigint | null;
}

/** A cache entry: the aggregate and whether it came from this process's own successful append. */
interface Entry<S> extends CachedAggregate<S> {
  own: boolean;
}

/** Options of {@link CachedAggregates}. */
export interface CachedAggregatesOptions {
  /** Streams kept in memory (default 1000). */
  capacity?: number;
  /** Decide/append attempts of a group before WrongExpectedRevisionError is rethrown to its callers (default 10). */
  maxAttempts?: number;
  /** Most commands decided and appended together (default 100). */
  maxGroupSize?: number;
  /**
   * After a WrongExpectedRevisionError on a stream, commands on it read the stream before deciding for this long
   * (ms, default 5000): another writer is active there, so skipping the read would mostly buy a failed append.
   */
  conflictCooldownMs?: number;
}

/** Counters of a {@link CachedAggregates} (for tests and metrics). */
export interface CachedAggregatesStats {
  /** Commands settled (resolved or rejected). */
  commands: number;
  /** Groups decided (one per lane turn, whatever the number of attempts). */
  groups: number;
  /** Successful appends (each writes the events of one group). */
  appends: number;
  /** Appends that failed with WrongExpectedRevisionError. */
  conflicts: number;
  /** Stream reads made to catch the cache up (`load`, including `load` called from outside). */
  reads: number;
  /** Largest group so far. */
  largestGroup: number;
  /** Groups whose append failed for one of their commands and were split to isolate it (see the module comment). */
  isolations: number;
}

/** A queued command and its caller. */
interface Pending<C, E, S> {
  build: (state: S) => C | Promise<C>;
  metadata: EventMetadata;
  resolve: (outcome: CommandOutcome<E, S>) => void;
  reject: (err: unknown) => void;
}

/** What one command of a group came to on one attempt. */
type Decision<E, S> = { ok: true; events: E[]; state: S; eventsBefore: number } | { ok: false; error: unknown };

/** Cache + group-commit loop for the streams of one decider. */
export class CachedAggregates<C, E extends DomainEvent, S> {
  private readonly cache: LruCache<string, Entry<S>>;
  /** Per stream with commands queued or in flight: the queue (the lane's drain loop runs while the key exists). */
  private readonly lanes = new Map<string, Pending<C, E, S>[]>();
  /** Per stream: until when (epoch ms) the cache is not trusted without a read, after a conflict. */
  private readonly conflictUntil = new Map<string, number>();
  private readonly maxAttempts: number;
  private readonly maxGroupSize: number;
  private readonly conflictCooldownMs: number;
  private readonly counters: CachedAggregatesStats = { commands: 0, groups: 0, appends: 0, conflicts: 0, reads: 0, largestGroup: 0, isolations: 0 };

  /** @param decider the aggregate's decider; its `evolve` must not mutate its input state. */
  constructor(
    private readonly store: EventStore,
    private readonly decider: Decider<C, E, S>,
    options: CachedAggregatesOptions = {},
  ) {
    this.cache = new LruCache(options.capacity ?? 1000);
    this.maxAttempts = options.maxAttempts ?? 10;
    this.maxGroupSize = Math.max(1, options.maxGroupSize ?? 100);
    this.conflictCooldownMs = options.conflictCooldownMs ?? 5000;
  }

  /** A snapshot of the counters. */
  stats(): CachedAggregatesStats {
    return { ...this.counters };
  }

  /**
   * The current state of `stream`: the cached state caught up with the events appended after its revision.
   * @throws {InvalidEventError} when a stored event fails catalog validation; store errors as is.
   */
  async load(stream: string): Promise<CachedAggregate<S>> {
    const { state, revision } = await this.catchUp(stream);
    return { state, revision };
  }

  /**
   * Decides and appends one command on `stream`, grouped with the other commands queued on it in this process.
   * @param build the command from the current state (re-run on every attempt, may be async; throw DomainError to refuse).
   * @param metadata stored with this command's events.
   * @returns as `handleCommand`: the state after this command's events, its events (none for a no-op),
   *   the stream's revision after them (its last event's), and the attempts of its group.
   * @throws {DomainError} from `build` or the decider (settled after the group's append; never retried alone).
   * @throws {WrongExpectedRevisionError} when other writers won `maxAttempts` times in a row; store errors as is.
   */
  handle(stream: string, build: (state: S) => C | Promise<C>, metadata: EventMetadata): Promise<CommandOutcome<E, S>> {
    return new Promise<CommandOutcome<E, S>>((resolve, reject) => {
      const queued = this.lanes.get(stream);
      const pending: Pending<C, E, S> = { build, metadata, resolve, reject };
      if (queued) {
        queued.push(pending);
        return;
      }
      const queue = [pending];
      this.lanes.set(stream, queue);
      void this.drain(stream, queue);
    });
  }

  /** Runs the lane of `stream` until its queue is empty, one group at a time. Never rejects. */
  private async drain(stream: string, queue: Pending<C, E, S>[]): Promise<void> {
    while (queue.length > 0) {
      const group = queue.splice(0, this.maxGroupSize);
      try {
        await this.commitGroup(stream, group);
      } catch (err) {
        // Not reached in practice (commitGroup settles its commands); never leave a caller hanging.
        for (const p of group) p.reject(err);
      }
    }
    this.lanes.delete(stream);
  }

  /** Decides `group` on the stream's state and appends its events in one append; settles every command. */
  private async commitGroup(stream: string, group: Pending<C, E, S>[]): Promise<void> {
    this.counters.groups++;
    this.counters.largestGroup = Math.max(this.counters.largestGroup, group.length);
    const settle = (fn: () => void): void => {
      this.counters.commands += group.length;
      fn();
    };
    const failAll = (err: unknown): void => settle(() => group.forEach((p) => p.reject(err)));
    /** False once this group lost a race: from then on every attempt starts from the store. */
    let trustCache = true;
    /** State already caught up with the store for the next attempt (after an empty group's check). */
    let caughtUp: Entry<S> | null = null;
    for (let attempt = 1; ; attempt++) {
      let base: Entry<S>;
      let fresh: boolean;
      try {
        const cached = this.cache.get(stream);
        if (caughtUp) {
          [base, fresh, caughtUp] = [caughtUp, true, null];
        } else if (trustCache && cached?.own === true && (this.conflictUntil.get(stream) ?? 0) <= Date.now()) {
          [base, fresh] = [cached, false];
        } else {
          [base, fresh] = [await this.catchUp(stream), true];
        }
      } catch (err) {
        failAll(err);
        return;
      }

      const decisions = await this.decideGroup(group, base.state);
      const events: E[] = [];
      const metadata: EventMetadata[] = [];
      let state = base.state;
      for (const [i, d] of decisions.entries()) {
        if (!d.ok) continue;
        for (const e of d.events) {
          events.push(e);
          metadata.push(group[i]!.metadata);
        }
        state = d.state;
      }

      if (events.length === 0) {
        if (!fresh) {
          // Decided on a cache no append has confirmed yet: catch up, and decide again if the stream moved.
          try {
            caughtUp = await this.catchUp(stream);
          } catch (err) {
            failAll(err);
            return;
          }
          if (caughtUp.revision !== base.revision) {
            attempt--;
            continue;
          }
        }
        settle(() => this.reply(group, decisions, base.revision, base.revision, 0, attempt));
        return;
      }

      try {
        const result = await this.store.append(
          stream,
          events.map((e, i) => ({ type: e.type, data: e.data, metadata: metadata[i]! })),
          base.revision ?? 'no_stream',
        );
        this.counters.appends++;
        this.cache.set(stream, { state, revision: result.nextExpectedRevision, own: true });
        settle(() => this.reply(group, decisions, base.revision, result.nextExpectedRevision, events.length, attempt));
        return;
      } catch (err) {
        if (!(err instanceof WrongExpectedRevisionError)) {
          if (group.length > 1 && !isInfrastructureError(err)) {
            await this.isolate(stream, group, decisions, err);
            return;
          }
          failAll(err);
          return;
        }
        this.counters.conflicts++;
        this.noteConflict(stream);
        if (attempt >= this.maxAttempts) {
          failAll(err);
          return;
        }
        trustCache = false;
        await sleep(Math.floor(Math.random() * 5 * attempt));
      }
    }
  }

  /**
   * After the append of `group` failed with `err` (neither a conflict nor an infrastructure failure): when exactly one
   * command added events, it is rejected with `err` and the others are committed again without it; otherwise the
   * group is committed again as two halves, one after the other (each decided afresh, recursively isolating further).
   * Settles every command of `group`.
   */
  private async isolate(stream: string, group: Pending<C, E, S>[], decisions: readonly Decision<E, S>[], err: unknown): Promise<void> {
    this.counters.isolations++;
    const writers = [...decisions.keys()].filter((i) => {
      const d = decisions[i];
      return d?.ok === true && d.events.length > 0;
    });
    if (writers.length === 1) {
      const culprit = writers[0] as number;
      this.counters.commands++;
      group[culprit]?.reject(err);
      await this.commitGroup(stream, group.filter((_, i) => i !== culprit));
      return;
    }
    const mid = Math.ceil(group.length / 2);
    await this.commitGroup(stream, group.slice(0, mid));
    await this.commitGroup(stream, group.slice(mid));
  }

  /** Decides each command of `group` in order on the state evolved by the previous ones. */
  private async decideGroup(group: readonly Pending<C, E, S>[], initial: S): Promise<Decision<E, S>[]> {
    const decisions: Decision<E, S>[] = [];
    let state = initial;
    let eventsBefore = 0;
    for (const p of group) {
      try {
        const command = await p.build(state);
        const events = this.decider.decide(command, state);
        for (const e of events) state = this.decider.evolve(state, e);
        decisions.push({ ok: true, events, state, eventsBefore });
        eventsBefore += events.length;
      } catch (error) {
        decisions.push({ ok: false, error });
      }
    }
    return decisions;
  }

  /**
   * Settles each command: its outcome (with the revision of its last event: `last` minus the group's events after
   * it), or its error.
   */
  private reply(group: readonly Pending<C, E, S>[], decisions: readonly Decision<E, S>[], base: bigint | null, last: bigint | null, total: number, attempts: number): void {
    for (const [i, p] of group.entries()) {
      const d = decisions[i]!;
      if (!d.ok) {
        p.reject(d.error);
        continue;
      }
      const through = d.eventsBefore + d.events.length;
      const revision = through === 0 ? base : (last as bigint) - BigInt(total - through);
      p.resolve({ state: d.state, events: d.events, revision, attempts });
    }
  }

  /** Reads the events after the cached revision, folds them, stores the result (never older than the cache). */
  private async catchUp(stream: string): Promise<Entry<S>> {
    const cached = this.cache.get(stream);
    let current: Entry<S> = cached ? { ...cached, own: false } : { state: this.decider.initialState(), revision: null, own: false };
    for (;;) {
      const from = current.revision === null ? 0n : current.revision + 1n;
      this.counters.reads++;
      const page = await this.store.readStream(stream, { from, limit: PAGE });
      let { state, revision } = current;
      for (const raw of page) {
        const e = validateRecorded(raw);
        state = this.decider.evolve(state, { type: e.type, data: e.data } as E);
        revision = e.revision;
      }
      current = { state, revision, own: false };
      if (page.length < PAGE) break;
    }
    // A concurrent append of this process may have stored a newer entry meanwhile: keep the newest.
    const now = this.cache.get(stream);
    if (now && revisionOrder(now.revision) > revisionOrder(current.revision)) return current;
    if (now && now.own && now.revision === current.revision) return current;
    this.cache.set(stream, current);
    return current;
  }

  /** Remembers that another writer is active on `stream` (bounded: expired marks are dropped when it grows). */
  private noteConflict(stream: string): void {
    const now = Date.now();
    if (this.conflictUntil.size >= 10_000) {
      for (const [s, until] of this.conflictUntil) if (until <= now) this.conflictUntil.delete(s);
    }
    this.conflictUntil.set(stream, now + this.conflictCooldownMs);
  }
}

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

/** A revision as a number that orders a missing stream first. */
function revisionOrder(revision: bigint | null): bigint {
  return revision ?? -1n;
}
