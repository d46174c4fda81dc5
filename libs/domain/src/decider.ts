/**
 * Deciders: an aggregate as plain functions (after Jérémie Chassaing's "functional event sourcing decider" and
 * Emmett's `Decider` type): `decide(command, state) → events`, `evolve(state, event) → state`, `initialState()`.
 * State is the left fold of the stream's events with `evolve`. No I/O happens here.
 */
import type { DomainEvent } from '@eventcast/events';

/** A decider over commands `C`, events `E` and state `S`. `decide` throws {@link DomainError} to refuse a command. */
export interface Decider<C, E, S> {
  decide(command: C, state: S): E[];
  evolve(state: S, event: E): S;
  initialState(): S;
}

/** Narrows the catalog union to some event types. */
export type EventOf<T extends DomainEvent['type']> = Extract<DomainEvent, { type: T }>;

/** Folds events into a state with a decider's `evolve`. */
export function fold<C, E, S>(decider: Decider<C, E, S>, events: Iterable<E>): S {
  let state = decider.initialState();
  for (const e of events) state = decider.evolve(state, e);
  return state;
}

/**
 * A refused command: a rule of the domain, not a crash. `code` is stable and machine-readable
 * (apps map it to HTTP 409/422, an error frame or a rejected publish). `details` (optional) carries machine-readable
 * extras of the refusal, e.g. `{ retryAfterMs }` for the chat's `timed_out`, `slow_mode` and `rate_limited`.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  /** Milliseconds after which the refused command may succeed (`details.retryAfterMs`), when the rule says so. */
  get retryAfterMs(): number | undefined {
    const v = this.details?.['retryAfterMs'];
    return typeof v === 'number' ? v : undefined;
  }
}

/** Exhaustiveness check for `switch` over a discriminated union. */
export function assertNever(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`);
}
