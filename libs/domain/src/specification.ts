/**
 * Given/when/then specifications for deciders (after Emmett's `DeciderSpecification`): given past events, when a
 * command is decided, then expect events or a domain error.
 */
import { fold, DomainError, type Decider } from './decider.js';

/** Result of a `when`: assert with `then(events)` or `thenThrows(code)`. */
export interface Then<E> {
  then(expected: E[]): void;
  thenThrows(code: string): void;
}

/**
 * Builds a specification runner. `assertEqual` is the test framework's deep-equality assertion
 * (e.g. `assert.deepStrictEqual`), so this module stays free of test-framework imports.
 */
export function specFor<C, E, S>(decider: Decider<C, E, S>, assertEqual: (actual: unknown, expected: unknown, message?: string) => void) {
  return {
    given(events: E[]) {
      return {
        when(command: C): Then<E> {
          const run = () => decider.decide(command, fold(decider, events));
          return {
            then(expected) {
              assertEqual(run(), expected);
            },
            thenThrows(code) {
              let caught: unknown;
              try {
                run();
              } catch (e) {
                caught = e;
              }
              if (!(caught instanceof DomainError)) throw new Error(`expected DomainError ${code}, got ${String(caught)}`);
              assertEqual(caught.code, code, 'domain error code');
            },
          };
        },
      };
    },
  };
}
