/**
 * Child process of the chat fan-out benchmark holding a share of the bulk receivers (raw-TCP WebSocket clients that
 * only count frames, see ./raw-ws.ts). Driven over IPC by ../chat-fanout.ts:
 * - `{ cmd: 'connect', target, count, addresses, offset, concurrency }` → `{ ev: 'connected', ready, failed, errors }`;
 * - `{ cmd: 'stats' }` → `{ ev: 'stats', counters, cpu }` (`cpu` = this process's user+system seconds);
 * - `{ cmd: 'close' }` → destroys every connection and exits.
 * Exits on its own when the parent goes away.
 */
import { connectMany, type RawCounters, type RawTarget, type RawWsClient } from './raw-ws.js';

/** Messages the parent sends. */
export type ReceiverCommand =
  | { cmd: 'connect'; target: RawTarget; count: number; addresses: string[]; offset: number; concurrency: number }
  | { cmd: 'stats' }
  | { cmd: 'close' };

/** Messages this process answers with. */
export type ReceiverEvent =
  | { ev: 'connected'; ready: number; failed: number; errors: string[] }
  | { ev: 'stats'; counters: RawCounters; cpuSeconds: number; open: number };

const counters: RawCounters = { delivered: 0, deliveredBytes: 0, other: 0, pings: 0, closedAfterReady: 0 };
const clients: RawWsClient[] = [];

function reply(m: ReceiverEvent): void {
  process.send?.(m);
}

process.on('message', (raw: unknown) => {
  const m = raw as ReceiverCommand;
  if (m.cmd === 'connect') {
    void connectMany(m.target, counters, m.count, m.addresses, { concurrency: m.concurrency, timeoutMs: 15_000, retries: 3, offset: m.offset }).then(
      (r) => {
        clients.push(...r.clients);
        reply({ ev: 'connected', ready: r.clients.length, failed: r.failed, errors: r.errors });
      },
    );
  } else if (m.cmd === 'stats') {
    const u = process.cpuUsage();
    reply({ ev: 'stats', counters: { ...counters }, cpuSeconds: (u.user + u.system) / 1e6, open: clients.length - counters.closedAfterReady });
  } else {
    for (const c of clients) c.destroy();
    setTimeout(() => process.exit(0), 100);
  }
});
process.on('disconnect', () => process.exit(0));
