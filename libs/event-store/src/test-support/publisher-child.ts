/**
 * Child process for the "process dies after append" test: runs an EventPublisher until killed.
 * Env: DATABASE_URL, NATS_URL, PUBLISHER_WINDOW (default 1, to publish slowly enough to be killed mid-way).
 */
import { EventPublisher } from '../publisher.js';
import { PostgresEventStore } from '../postgres/store.js';

const databaseUrl = process.env['DATABASE_URL'] ?? '';
const store = new PostgresEventStore({ connectionString: databaseUrl });
const publisher = new EventPublisher({
  store,
  databaseUrl,
  natsServers: process.env['NATS_URL'] ?? '',
  window: Number(process.env['PUBLISHER_WINDOW'] ?? '1'),
  checkpointEveryMs: 50,
});
await publisher.start();
process.stdout.write('started\n');
process.once('SIGTERM', () => {
  void publisher.stop().then(() => store.close());
});
