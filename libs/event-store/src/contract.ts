/**
 * The event-store contract suite: one set of node:test cases every adapter of the port must pass.
 */
import { after, before, describe } from 'node:test';
import type { EventStore } from './port.js';
import { appendingTests } from './contract/appending.js';
import type { ContractContext } from './contract/fixtures.js';
import { positionTests } from './contract/positions.js';
import { readingTests } from './contract/reading.js';
import { subscribingTests } from './contract/subscribing.js';

/** What a contract factory returns: a ready store (schema migrated) and how to dispose of it and its data. */
export interface ContractSubject {
  store: EventStore;
  cleanup(): Promise<void>;
}

/** Options of {@link runEventStoreContract}. */
export interface ContractOptions {
  /**
   * Whether to assert that positions are exactly h0+1..h0+N (default true, the port's promise). EventStoreDB's
   * commit positions only increase, so its suite passes `false` and the suite checks strict increase only.
   */
  gapFreePositions?: boolean;
}

/**
 * Registers `describe(name)` with the contract tests: append/readStream round trip; expected revisions `no_stream`,
 * `stream_exists`, exact and `any` with {@link WrongExpectedRevisionError}; 20 two-writer races (one winner);
 * caller-supplied event ids (a repeated id refused with DuplicateEventIdError, nothing written);
 * invalid events rejected with nothing written; readAll order, filters, `after`, `limit`; positions strictly
 * increasing and gap-free after concurrent appends with rollbacks; catch-up subscriptions (history then live,
 * filters, `close()`); headPosition.
 *
 * `factory` runs once before the tests and `cleanup` once after. Tests use fresh random stream names and categories
 * and positions relative to the head, so the store may already hold data, but nothing else may write to it while
 * the suite runs (the readAll assertions expect only their own events after their start position).
 */
export function runEventStoreContract(name: string, factory: () => Promise<ContractSubject>, options: ContractOptions = {}): void {
  void describe(name, () => {
    let subject: ContractSubject | undefined;
    const ctx: ContractContext = {
      store: () => {
        if (!subject) throw new Error('contract factory did not run');
        return subject.store;
      },
      gapFreePositions: options.gapFreePositions ?? true,
    };
    before(async () => {
      subject = await factory();
    });
    after(async () => {
      await subject?.cleanup();
    });
    appendingTests(ctx);
    readingTests(ctx);
    positionTests(ctx);
    subscribingTests(ctx);
  });
}
