/**
 * The one command-handling loop of the command side (after Oskar Dudycz's `core/commandHandling.ts`): read the
 * aggregate's stream → fold with the decider → decide → append with the expected revision. On a concurrent write
 * (WrongExpectedRevisionError) the command is decided again on fresh state, a few times, with jittered backoff.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { validateRecorded, type DomainEvent, type EventMetadata, type RecordedEvent } from '@eventcast/events';
import type { Decider } from '@eventcast/domain';
import { WrongExpectedRevisionError, type EventStore, type ExpectedRevision } from '@eventcast/event-store';

/** Page size used to read a stream. */
const PAGE = 1000;

/** Outcome of {@link handleCommand}. */
export interface CommandOutcome<E, S> {
  /** State after the new events (equal to the loaded state when the decider returned none). */
  state: S;
  /** The events appended (empty when the command changed nothing). */
  events: E[];
  /** The stream's last revision after the command; null when the stream still does not exist. */
  revision: bigint | null;
  /** How many times the command was decided (1 unless a concurrent writer forced a retry). */
  attempts: number;
  /**
   * Global position of the last event appended, or — when the command changed nothing — of the stream's last event
   * (null for a missing stream): a read model at this position reflects the outcome (read-your-writes). Set by
   * {@link handleCommand}; absent from outcomes of the cached lanes.
   */
  position?: bigint | null;
}

/** A loaded aggregate: its state, its last revision (null for a missing stream) and the validated recorded events. */
export interface LoadedAggregate<S> {
  state: S;
  revision: bigint | null;
  events: RecordedEvent[];
}

/** Options of {@link handleCommand}. */
export interface HandleCommandOptions {
  /** Total decide/append attempts before a WrongExpectedRevisionError is rethrown (default 5). */
  maxAttempts?: number;
}

/** Reads every event of `stream`, page by page, validated and upcast by the catalog. */
export async function readWholeStream(store: EventStore, stream: string): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  let from = 0n;
  for (;;) {
    const page = await store.readStream(stream, { from, limit: PAGE });
    for (const e of page) all.push(validateRecorded(e));
    const last = page.at(-1);
    if (page.length < PAGE || !last) return all;
    from = last.revision + 1n;
  }
}

/**
 * Loads an aggregate: reads `stream` and folds it with `decider.evolve`.
 * @throws {InvalidEventError} when a stored event fails catalog validation.
 */
export async function loadAggregate<C, E extends DomainEvent, S>(
  store: EventStore,
  stream: string,
  decider: Decider<C, E, S>,
): Promise<LoadedAggregate<S>> {
  const events = await readWholeStream(store, stream);
  let state = decider.initialState();
  for (const e of events) state = decider.evolve(state, { type: e.type, data: e.data } as E);
  return { state, revision: events.at(-1)?.revision ?? null, events };
}

/**
 * Handles one command on one aggregate stream.
 * @param command the command, or a function of the loaded state returning it (re-run on every attempt).
 * @param metadata stored with every appended event (`correlationId`, `actorId`); never put secrets here.
 * @returns the new state, the appended events, the stream's revision and the number of attempts.
 * @throws {DomainError} when the decider refuses the command (never retried).
 * @throws {WrongExpectedRevisionError} when concurrent writers won `maxAttempts` times in a row.
 */
export async function handleCommand<C, E extends DomainEvent, S>(
  store: EventStore,
  streamName: string,
  decider: Decider<C, E, S>,
  command: C | ((state: S) => C),
  metadata: EventMetadata,
  options: HandleCommandOptions = {},
): Promise<CommandOutcome<E, S>> {
  const maxAttempts = options.maxAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const loaded = await loadAggregate(store, streamName, decider);
    const cmd = typeof command === 'function' ? (command as (state: S) => C)(loaded.state) : command;
    const events = decider.decide(cmd, loaded.state);
    if (events.length === 0) {
      return { state: loaded.state, events, revision: loaded.revision, attempts: attempt, position: loaded.events.at(-1)?.globalPosition ?? null };
    }
    const expected: ExpectedRevision = loaded.revision ?? 'no_stream';
    try {
      const result = await store.append(
        streamName,
        events.map((e) => ({ type: e.type, data: e.data, metadata })),
        expected,
      );
      let state = loaded.state;
      for (const e of events) state = decider.evolve(state, e);
      return { state, events, revision: result.nextExpectedRevision, attempts: attempt, position: result.lastGlobalPosition };
    } catch (err) {
      if (!(err instanceof WrongExpectedRevisionError) || attempt >= maxAttempts) throw err;
      await sleep(Math.floor(Math.random() * 20 * attempt) + 1);
    }
  }
}
