/**
 * Hot-path command handling with an in-memory cache of aggregate state (used by chat, where every message is a
 * command): per stream it keeps `{ state, revision }` in an LRU, and for each command reads only the events after the
 * cached revision (`readStream(stream, { from: revision + 1 })`), decides, and appends with expected revision = that
 * revision. Correctness never rests on the cache: a stale cache (another instance or writer appended) makes the
 * append fail with WrongExpectedRevisionError, after which the stream is caught up and the command decided again on
 * fresh state. Commands on one stream are serialized within the process, so this instance's own commands never
 * conflict with each other.
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

/** Options of {@link CachedAggregates}. */
export interface CachedAggregatesOptions {
  /** Streams kept in memory (default 1000). */
  capacity?: number;
  /** Decide/append attempts before WrongExpectedRevisionError is rethrown (default 10). */
  maxAttempts?: number;
}

/** Cache + command loop for the streams of one decider. */
export class CachedAggregates<C, E extends DomainEvent, S> {
  private readonly cache: LruCache<string, CachedAggregate<S>>;
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly maxAttempts: number;

  /** @param decider the aggregate's decider; its `evolve` must not mutate its input state. */
  constructor(
    private readonly store: EventStore,
    private readonly decider: Decider<C, E, S>,
    options: CachedAggregatesOptions = {},
  ) {
    this.cache = new LruCache(options.capacity ?? 1000);
    this.maxAttempts = options.maxAttempts ?? 10;
  }

  /**
   * The current state of `stream`: the cached state caught up with the events appended after its revision.
   * @throws {InvalidEventError} when a stored event fails catalog validation; store errors as is.
   */
  async load(stream: string): Promise<CachedAggregate<S>> {
    let current = this.cache.get(stream) ?? { state: this.decider.initialState(), revision: null };
    for (;;) {
      const from = current.revision === null ? 0n : current.revision + 1n;
      const page = await this.store.readStream(stream, { from, limit: PAGE });
      let { state, revision } = current;
      for (const raw of page) {
        const e = validateRecorded(raw);
        state = this.decider.evolve(state, { type: e.type, data: e.data } as E);
        revision = e.revision;
      }
      current = { state, revision };
      if (page.length < PAGE) break;
    }
    this.cache.set(stream, current);
    return current;
  }

  /**
   * Decides and appends one command on `stream` (serialized with the other commands on it in this process).
   * @param build the command from the current state (re-run on every attempt, may be async; throw DomainError to refuse).
   * @returns as `handleCommand`: new state, appended events, revision, attempts.
   * @throws {DomainError} from `build` or the decider (never retried).
   * @throws {WrongExpectedRevisionError} when other writers won `maxAttempts` times in a row.
   */
  handle(stream: string, build: (state: S) => C | Promise<C>, metadata: EventMetadata): Promise<CommandOutcome<E, S>> {
    const previous = this.queues.get(stream) ?? Promise.resolve();
    const run = previous.then(
      () => this.attempt(stream, build, metadata),
      () => this.attempt(stream, build, metadata),
    );
    const tail = run.catch(() => undefined);
    this.queues.set(stream, tail);
    void tail.then(() => {
      if (this.queues.get(stream) === tail) this.queues.delete(stream);
    });
    return run;
  }

  private async attempt(stream: string, build: (state: S) => C | Promise<C>, metadata: EventMetadata): Promise<CommandOutcome<E, S>> {
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.load(stream);
      const events = this.decider.decide(await build(loaded.state), loaded.state);
      if (events.length === 0) return { state: loaded.state, events, revision: loaded.revision, attempts: attempt };
      try {
        const result = await this.store.append(
          stream,
          events.map((e) => ({ type: e.type, data: e.data, metadata })),
          loaded.revision ?? 'no_stream',
        );
        let state = loaded.state;
        for (const e of events) state = this.decider.evolve(state, e);
        this.cache.set(stream, { state, revision: result.nextExpectedRevision });
        return { state, events, revision: result.nextExpectedRevision, attempts: attempt };
      } catch (err) {
        if (!(err instanceof WrongExpectedRevisionError) || attempt >= this.maxAttempts) throw err;
        await sleep(Math.floor(Math.random() * 5 * attempt));
      }
    }
  }
}
