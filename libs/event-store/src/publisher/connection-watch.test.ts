/**
 * ConnectionWatch against a private nats-server: a wait for the connection during an outage leaves no listener on the
 * publisher's long-lived AbortSignal once the connection is back (review finding: one leaked listener per outage).
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import { startPrivateNats } from '@eventcast/launcher';
import { ConnectionWatch } from './connection-watch.js';

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

void it('untilConnected during outages leaves no abort listener on the long-lived signal', { timeout: 60_000 }, async () => {
  const nats = await startPrivateNats();
  const nc = await connect({ servers: nats.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  const life = new AbortController();
  try {
    for (let outage = 0; outage < 3; outage++) {
      const watch = new ConnectionWatch(nc);
      await nats.stop();
      await until(() => !watch.connected, 10_000, 'the disconnect');
      const waits = Array.from({ length: 5 }, () => watch.untilConnected(life.signal));
      assert.equal(getEventListeners(life.signal, 'abort').length, 5);
      await nats.start();
      await Promise.all(waits);
      assert.equal(getEventListeners(life.signal, 'abort').length, 0, `after outage ${outage + 1}`);
      watch.stop();
    }
    // A wait ended by the signal itself is dropped from the watch's waiters too.
    const watch = new ConnectionWatch(nc);
    await nats.stop();
    await until(() => !watch.connected, 10_000, 'the disconnect');
    const wait = watch.untilConnected(life.signal);
    life.abort();
    await wait;
    assert.equal(getEventListeners(life.signal, 'abort').length, 0);
    watch.stop();
  } finally {
    await nc.close().catch(() => undefined);
    await nats.dispose();
  }
});
