/**
 * The one way the command side runs a decider (after Oskar Dudycz's `core/commandHandling.ts` and Emmett's
 * `CommandHandler`): read the aggregate's stream → fold it with `evolve` → `decide` → append the events with the
 * expected revision the state was folded up to. On a concurrent write (WrongExpectedRevisionError) the command is
 * decided again on fresh state, up to `maxAttempts` times, after an exponential backoff with full jitter (a random wait
 * in [0, min(cap, base·2^(attempt−1))) ms; Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog,
 * 2015: under contention it spreads the losers so that most of them win the next round). Every command handler runs
 * its aggregate through an {@link AggregateService}; docs/design.md ("How a command is run") says which has a cache.
 *
 * Without a cache every command reads the whole stream, and commands on one stream race under optimistic concurrency.
 *
 * With a cache ({@link AggregateCacheOptions}) the service keeps `{ state, revision, position }` per stream in an LRU
 * and reads only the events appended after the cached revision. Commands on one stream then go through one lane per
 * process: while the stream's append is in flight the following commands queue; when it completes the lane takes
 * every queued command (up to `maxGroupSize`), decides them one after another on the evolving state (a refused
 * command gets its error and contributes no events), appends ALL resulting events in ONE append with the expected
 * revision (group commit), and only then settles each caller. At a steady rate a stream sees one append per round
 * trip instead of one per command.
 *
 * Correctness never rests on the cache: every append carries the revision its state was folded up to. A stale cache
 * (another process or writer appended) makes the append fail with WrongExpectedRevisionError; the stream is then
 * caught up (`readStream(stream, { from: revision + 1 })`), the cache refreshed, and the WHOLE group decided again.
 * That is why the pre-read is skipped when the cached entry came from this process's own append and no conflict was
 * seen on the stream lately (`conflictCooldownMs`). A group that produces no events (all refused, or no-ops) has no
 * append to confirm its state, so when it was decided on an unconfirmed cache the stream is caught up first and, if
 * it moved, the group is decided again: a refusal is always decided on state that was current at some point after the
 * command arrived.
 *
 * One command never fails another (ARCHITECTURE.md invariant 7, docs/chat.md "Failure isolation"): when a group's
 * append fails with anything but WrongExpectedRevisionError or an infrastructure failure ({@link isInfrastructureError})
 * — a payload the catalog or PostgreSQL refuses, a duplicate event id — the group is isolated: with a single command
 * that added events, that command fails alone and the rest is decided and appended again without it; otherwise the
 * group is split in two halves committed one after the other (bisection). An infrastructure failure fails the
 * commands of that attempt.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { validateRecorded, type DomainEvent, type EventMetadata, type RecordedEvent } from '@eventcast/events';
import type { Decider } from '@eventcast/domain';
import { WrongExpectedRevisionError, type EventStore } from '@eventcast/event-store';
import { isInfrastructureError } from './infrastructure-errors.js';
import { LruCache } from './lru-cache.js';

/** Page size used to read a stream. */
const PAGE = 1000;

/** An aggregate as loaded: its folded state, where its stream stands, and the global position of its last event. */
export interface Aggregate<S> {
  state: S;
  /** The stream's last revision (0-based); null when the stream does not exist yet. */
  revision: bigint | null;
  /** Global position of the stream's last event; null for a missing stream (read-your-writes, invariant 8). */
  position: bigint | null;
}

/** An aggregate with every recorded event of its stream (validated and upcast by the catalog), oldest first. */
export interface AggregateHistory<S> extends Aggregate<S> {
  events: RecordedEvent[];
}

/** Outcome of {@link AggregateService.handle}. */
export interface CommandOutcome<E, S> {
  /** State after this command's events (equal to the state it was decided on when it appended none). */
  state: S;
  /** The events this command appended (empty when it changed nothing). */
  events: E[];
  /** The stream's revision after this command's events; null when the stream still does not exist. */
  revision: bigint | null;
  /**
   * A global position at or after this command's last event (its append's last event: with group commit, that of the
   * whole group), or — when the command appended nothing — of the event its state was folded up to (null for a missing
   * stream): a read model at this position reflects the outcome (read-your-writes, invariant 8).
   */
  position: bigint | null;
  /** How many times the command was decided (1 unless a concurrent writer forced a retry). */
  attempts: number;
}

/** The cache of an {@link AggregateService} (omit it for a service that reads the whole stream on every command). */
export interface AggregateCacheOptions {
  /** Streams kept in memory (LRU). */
  capacity: number;
  /** Most commands of one stream decided and appended together (default 100). */
  maxGroupSize?: number;
  /**
   * After a WrongExpectedRevisionError on a stream, commands on it read the stream before deciding for this long
   * (ms, default 5000): another writer is active there, so skipping the read would mostly buy a failed append.
   */
  conflictCooldownMs?: number;
}

/** Longest wait before one retry, ms. */
const RETRY_CAP_MS = 500;

/**
 * The wait before retry number `attempt` (1-based), ms: full jitter, uniform in [1, min(RETRY_CAP_MS, base·2^(attempt−1))]
 * (Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015).
 */
export function backoffMs(baseMs: number, attempt: number): number {
  const ceiling = Math.min(RETRY_CAP_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(Math.random() * ceiling) + 1;
}

/** Options of an {@link AggregateService}. */
export interface AggregateServiceOptions {
  /** Keep folded state per stream and group the commands of a stream (see the module comment); absent: no cache. */
  cache?: AggregateCacheOptions;
  /**
   * Decide/append attempts of a command (of a group, with the cache) before WrongExpectedRevisionError is rethrown
   * to its callers (default 8 without a cache, 10 with one). Eight full-jitter rounds let a dozen concurrent writers of
   * one stream all land on a loaded machine (five did not, once, in CI).
   */
  maxAttempts?: number;
}

/** Counters of an {@link AggregateService} (for tests and metrics). */
export interface AggregateServiceStats {
  /** Commands settled (resolved or rejected). */
  commands: number;
  /** Groups decided (one per command without a cache; one per lane turn with one), whatever the attempts. */
  groups: number;
  /** Successful appends. */
  appends: number;
  /** Appends that failed with WrongExpectedRevisionError. */
  conflicts: number;
  /** Stream reads (pages) made to load or catch up an aggregate. */
  reads: number;
  /** Largest group so far. */
  largestGroup: number;
  /** Groups whose append failed for one of their commands and were split to isolate it (see the module comment). */
  isolations: number;
}

/** A command, or a function of the aggregate's current state returning it (re-run on every attempt; may be async). */
export type CommandInput<C, S> = C | ((state: S) => C | Promise<C>);

/** A cache entry: the aggregate and whether it came from this process's own successful append. */
interface Entry<S> extends Aggregate<S> {
  own: boolean;
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

/**
 * Runs the commands of one decider on its streams (`streamOf(id)`), with an optional cache and group commit.
 * One instance per aggregate type and process (the cache and the lanes are per instance).
 */
export class AggregateService<C, E extends DomainEvent, S> {
  private readonly cache: LruCache<string, Entry<S>> | null;
  /** Per stream with commands queued or in flight (cache only): the queue (the lane's drain loop runs while it exists). */
  private readonly lanes = new Map<string, Pending<C, E, S>[]>();
  /** Per stream: until when (epoch ms) the cache is not trusted without a read, after a conflict. */
  private readonly conflictUntil = new Map<string, number>();
  private readonly maxAttempts: number;
  private readonly maxGroupSize: number;
  private readonly conflictCooldownMs: number;
  /** Base of the exponential backoff before a retry, ms (the first retry waits up to this much). */
  private readonly retryBaseMs: number;
  private readonly counters: AggregateServiceStats = { commands: 0, groups: 0, appends: 0, conflicts: 0, reads: 0, largestGroup: 0, isolations: 0 };

  /**
   * @param store the event store (wrap it, e.g. in `CommandEventIds`, to change how events are appended).
   * @param decider the aggregate's decider; its `evolve` must not mutate its input state.
   * @param streamOf the stream name of an aggregate id (a `streams.*` function of @eventcast/events).
   */
  constructor(
    readonly store: EventStore,
    private readonly decider: Decider<C, E, S>,
    readonly streamOf: (id: string) => string,
    options: AggregateServiceOptions = {},
  ) {
    this.cache = options.cache ? new LruCache(options.cache.capacity) : null;
    this.maxAttempts = options.maxAttempts ?? (options.cache ? 10 : 8);
    this.maxGroupSize = Math.max(1, options.cache?.maxGroupSize ?? 100);
    this.conflictCooldownMs = options.cache?.conflictCooldownMs ?? 5000;
    this.retryBaseMs = options.cache ? 5 : 10;
  }

  /** A snapshot of the counters. */
  stats(): AggregateServiceStats {
    return { ...this.counters };
  }

  /**
   * The current state of aggregate `id` (with a cache: the cached state caught up with the events appended since).
   * @throws {InvalidEventError} when a stored event fails catalog validation; store errors as is.
   */
  async load(id: string): Promise<Aggregate<S>> {
    const { state, revision, position } = await this.catchUp(this.streamOf(id));
    return { state, revision, position };
  }

  /**
   * The aggregate with every recorded event of its stream (for what the state does not keep, e.g. when an event was
   * recorded). Always reads the whole stream; leaves the cache alone.
   * @throws {InvalidEventError} when a stored event fails catalog validation; store errors as is.
   */
  async history(id: string): Promise<AggregateHistory<S>> {
    const stream = this.streamOf(id);
    const events: RecordedEvent[] = [];
    let state = this.decider.initialState();
    for (let from = 0n; ; ) {
      this.counters.reads++;
      const page = await this.store.readStream(stream, { from, limit: PAGE });
      for (const raw of page) {
        const e = validateRecorded(raw);
        state = this.decider.evolve(state, { type: e.type, data: e.data } as E);
        events.push(e);
      }
      const last = page.at(-1);
      if (page.length < PAGE || !last) break;
      from = last.revision + 1n;
    }
    const last = events.at(-1);
    return { state, revision: last?.revision ?? null, position: last?.globalPosition ?? null, events };
  }

  /**
   * Decides `command` on aggregate `id` and appends its events (with a cache: together with the other commands queued
   * on the stream in this process).
   * @param command the command, or a function of the current state returning it (re-run on every attempt; it may
   *   throw DomainError to refuse).
   * @param metadata stored with this command's events (`correlationId`, `causationId`, `actorId`, `commandId`); never
   *   put secrets here.
   * @throws {DomainError} from the decider or `command` (never retried on its own).
   * @throws {WrongExpectedRevisionError} when concurrent writers won `maxAttempts` times in a row; store errors as is.
   */
  handle(id: string, command: CommandInput<C, S>, metadata: EventMetadata): Promise<CommandOutcome<E, S>> {
    const stream = this.streamOf(id);
    const build = typeof command === 'function' ? (command as (state: S) => C | Promise<C>) : () => command;
    return new Promise<CommandOutcome<E, S>>((resolve, reject) => {
      const pending: Pending<C, E, S> = { build, metadata, resolve, reject };
      if (!this.cache) {
        void this.commitGroup(stream, [pending]);
        return;
      }
      const queued = this.lanes.get(stream);
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
      await this.commitGroup(stream, group);
    }
    this.lanes.delete(stream);
  }

  /** Decides `group` on the stream's state and appends its events in one append; settles every command. Never rejects. */
  private async commitGroup(stream: string, group: Pending<C, E, S>[]): Promise<void> {
    try {
      await this.tryCommitGroup(stream, group);
    } catch (err) {
      // Not reached in practice (tryCommitGroup settles its commands); never leave a caller hanging.
      for (const p of group) p.reject(err);
    }
  }

  private async tryCommitGroup(stream: string, group: Pending<C, E, S>[]): Promise<void> {
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
        const cached = this.cache?.get(stream);
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
        settle(() => this.reply(group, decisions, base, base.revision, base.position, 0, attempt));
        return;
      }

      try {
        const result = await this.store.append(
          stream,
          events.map((e, i) => ({ type: e.type, data: e.data, metadata: metadata[i]! })),
          base.revision ?? 'no_stream',
        );
        this.counters.appends++;
        this.cache?.set(stream, { state, revision: result.nextExpectedRevision, position: result.lastGlobalPosition, own: true });
        settle(() => this.reply(group, decisions, base, result.nextExpectedRevision, result.lastGlobalPosition, events.length, attempt));
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
        if (this.cache) this.noteConflict(stream);
        if (attempt >= this.maxAttempts) {
          failAll(err);
          return;
        }
        trustCache = false;
        await sleep(backoffMs(this.retryBaseMs, attempt));
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
      await this.tryCommitGroup(stream, group.filter((_, i) => i !== culprit));
      return;
    }
    const mid = Math.ceil(group.length / 2);
    await this.tryCommitGroup(stream, group.slice(0, mid));
    await this.tryCommitGroup(stream, group.slice(mid));
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
   * Settles each command: its outcome (the revision of its last event: `last` minus the group's events after it; the
   * append's position, or the base's for a command decided before any event of the group), or its error.
   */
  private reply(
    group: readonly Pending<C, E, S>[],
    decisions: readonly Decision<E, S>[],
    base: Aggregate<S>,
    last: bigint | null,
    lastPosition: bigint | null,
    total: number,
    attempts: number,
  ): void {
    for (const [i, p] of group.entries()) {
      const d = decisions[i]!;
      if (!d.ok) {
        p.reject(d.error);
        continue;
      }
      const through = d.eventsBefore + d.events.length;
      const revision = through === 0 ? base.revision : (last as bigint) - BigInt(total - through);
      p.resolve({ state: d.state, events: d.events, revision, position: through === 0 ? base.position : lastPosition, attempts });
    }
  }

  /**
   * Reads the events after the cached revision (all of them without a cache), folds them, and stores the result in
   * the cache (never older than what it holds).
   */
  private async catchUp(stream: string): Promise<Entry<S>> {
    const cached = this.cache?.get(stream);
    let current: Entry<S> = cached ? { ...cached, own: false } : { state: this.decider.initialState(), revision: null, position: null, own: false };
    for (;;) {
      const from = current.revision === null ? 0n : current.revision + 1n;
      this.counters.reads++;
      const page = await this.store.readStream(stream, { from, limit: PAGE });
      let { state, revision, position } = current;
      for (const raw of page) {
        const e = validateRecorded(raw);
        state = this.decider.evolve(state, { type: e.type, data: e.data } as E);
        revision = e.revision;
        position = e.globalPosition;
      }
      current = { state, revision, position, own: false };
      if (page.length < PAGE) break;
    }
    if (!this.cache) return current;
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

/** A revision as a number that orders a missing stream first. */
function revisionOrder(revision: bigint | null): bigint {
  return revision ?? -1n;
}
