/**
 * Runs the event-store contract against EventStoreDB when `EVENTSTORE_URL` is set (e.g.
 * `esdb://127.0.0.1:2113?tls=false`); otherwise registers one skipped test saying why.
 */
import { it } from 'node:test';
import { runEventStoreContract } from '../contract.js';
import { EventStoreDbEventStore } from './store.js';

const url = process.env['EVENTSTORE_URL'];

if (url) {
  runEventStoreContract(
    'EventStoreDbEventStore contract',
    () => {
      const store = new EventStoreDbEventStore(url);
      return Promise.resolve({ store, cleanup: () => store.close() });
    },
    { gapFreePositions: false },
  );
} else {
  void it('EventStoreDbEventStore contract', { skip: 'EVENTSTORE_URL not set: no EventStoreDB server to run the contract against' }, () => undefined);
}
