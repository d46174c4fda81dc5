/**
 * Event-store phase of the command-path benchmark: appends straight to the PostgreSQL adapter, no app in between,
 * closed loop (each appender appends again as soon as its previous append returned).
 * - **hot stream**: `concurrency` appenders on ONE stream, one `ChatMessageSent` per append, expected revision `any`
 *   (the case where a store-level group commit can merge concurrent appends of one stream);
 * - **many streams**: `concurrency` appenders, each on its own stream with the exact expected revision (the
 *   optimistic-concurrency path every aggregate takes).
 */
import { randomUUID } from 'node:crypto';
import { PostgresEventStore, type ExpectedRevision } from '@eventcast/event-store';
import { createTestDatabase } from '@eventcast/platform';
import { cpuSeconds, nowMs, summarize, type Summary } from '../fanout/proc.js';

/** Result of one store case. */
export interface StoreCase {
  name: string;
  concurrency: number;
  seconds: number;
  appends: number;
  appendsPerSecond: number;
  /** Append latency (call → resolve), ms. */
  latencyMs: Summary;
  /** CPU of this (benchmark) process in the window, cores. */
  benchCores: number;
  errors: number;
}

/** A valid `ChatMessageSent` for the catalog. */
function chatEvent(channelId: string, i: number): { type: string; data: Record<string, unknown> } {
  const now = new Date().toISOString();
  return {
    type: 'ChatMessageSent',
    data: {
      channelId,
      username: 'bench_store',
      messageId: randomUUID(),
      senderId: channelId,
      senderName: 'bench_store',
      senderRole: 'owner',
      text: `store bench message ${i}`,
      maskedTerms: 0,
      sentAt: now,
      visibleAt: now,
    },
  };
}

/** Runs `appenders` closed-loop appenders for `seconds`. */
async function runCase(
  store: PostgresEventStore,
  name: string,
  concurrency: number,
  seconds: number,
  streamOf: (appender: number) => string,
  exact: boolean,
): Promise<StoreCase> {
  const latencies: number[] = [];
  let errors = 0;
  const channelId = randomUUID();
  const deadline = nowMs() + seconds * 1000;
  const cpu0 = cpuSeconds(process.pid);
  const t0 = nowMs();
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, a) => {
      const stream = streamOf(a);
      let expected: ExpectedRevision = exact ? 'no_stream' : 'any';
      while (nowMs() < deadline) {
        const t = nowMs();
        try {
          const r = await store.append(stream, [chatEvent(channelId, i++)], expected);
          latencies.push(nowMs() - t);
          if (exact) expected = r.nextExpectedRevision;
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (nowMs() - t0) / 1000;
  return {
    name,
    concurrency,
    seconds: Math.round(elapsed * 10) / 10,
    appends: latencies.length,
    appendsPerSecond: Math.round(latencies.length / elapsed),
    latencyMs: summarize(latencies),
    benchCores: Math.round(((cpuSeconds(process.pid) - cpu0) / elapsed) * 100) / 100,
    errors,
  };
}

/**
 * Runs the store cases on a fresh database (dropped afterwards), with a pool of `poolSize` connections as
 * command-api's store has (10).
 */
export async function storeBench(o: { seconds: number; concurrency: number; poolSize: number }, log: (s: string) => void): Promise<StoreCase[]> {
  const db = await createTestDatabase('eventcast_bench_store');
  // Group commit as shipped, and one append per transaction (maxAppends 1: the store before group commit, but with
  // one transaction in flight instead of up to 10 queued on the counter lock), measured alternately in the same
  // conditions: on a shared machine only back-to-back figures compare.
  const grouped = new PostgresEventStore({ connectionString: db.url, maxConnections: o.poolSize });
  const lone = new PostgresEventStore({ connectionString: db.url, maxConnections: o.poolSize, groupCommit: { maxAppends: 1 } });
  try {
    await grouped.migrate();
    const out: StoreCase[] = [];
    const hot = `chat-${randomUUID()}`;
    for (const store of [grouped, lone]) await runCase(store, 'warm-up', o.concurrency, 1, () => `chat-${randomUUID()}`, false);
    for (const [name, streamOf, exact] of [
      ['one hot stream (expected any)', () => hot, false],
      ['many streams (exact expected revision)', (a: number) => `chat-${a}-${randomUUID()}`, true],
    ] as const) {
      for (const [variant, store] of [
        ['group commit', grouped],
        ['one append per transaction', lone],
      ] as const) {
        const r = await runCase(store, `${name}, ${variant}`, o.concurrency, o.seconds, streamOf, exact);
        log(`store: ${r.name}: ${r.appendsPerSecond} appends/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, errors ${r.errors}`);
        out.push(r);
      }
    }
    return out;
  } finally {
    await grouped.close();
    await lone.close();
    await db.drop();
  }
}
