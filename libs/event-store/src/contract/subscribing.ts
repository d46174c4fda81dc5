/**
 * Contract: catch-up subscriptions deliver history then live events in order, honour filters, and end on close().
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { collect, infoUpdated, rejected, uniqueCategory, uniqueStream, type ContractContext } from './fixtures.js';

/** Registers the subscription tests. */
export function subscribingTests(ctx: ContractContext): void {
  void it('delivers historical then live events in order, filtered by category', { timeout: 30_000 }, async () => {
    const store = ctx.store();
    const category = uniqueCategory();
    const stream = uniqueStream(category);
    const h0 = await store.headPosition();
    await store.append(stream, [rejected(0), rejected(1), rejected(2)], 'no_stream');
    await store.append(uniqueStream(), [rejected()], 'no_stream');
    const sub = store.subscribeToAll({ after: h0, categories: [category] });
    const events = await collect(sub, 5, async (received) => {
      if (received.length === 3) {
        await store.append(uniqueStream(), [rejected()], 'no_stream');
        await store.append(stream, [rejected(3)], 2n);
        await store.append(stream, [rejected(4)], 3n);
      }
    });
    assert.deepEqual(events.map((e) => e.revision), [0n, 1n, 2n, 3n, 4n]);
    assert.ok(events.every((e) => e.streamName === stream));
  });

  void it('filters a subscription by event type and starts after the given position', { timeout: 30_000 }, async () => {
    const store = ctx.store();
    const category = uniqueCategory();
    const stream = uniqueStream(category);
    await store.append(stream, [infoUpdated('old')], 'no_stream');
    const h0 = await store.headPosition();
    await store.append(stream, [rejected(), infoUpdated('one'), rejected()], 0n);
    const sub = store.subscribeToAll({ after: h0, categories: [category], eventTypes: ['ChannelInfoUpdated'] });
    const events = await collect(sub, 2, async (received) => {
      if (received.length === 1) await store.append(stream, [rejected(), infoUpdated('two')], 3n);
    });
    assert.deepEqual(events.map((e) => (e.data as { title: string }).title), ['one', 'two']);
  });

  void it('ends the iteration cleanly when close() is called while waiting', { timeout: 10_000 }, async () => {
    const store = ctx.store();
    const sub = store.subscribeToAll({ after: await store.headPosition(), categories: [uniqueCategory()] });
    let count = 0;
    const loop = (async () => {
      for await (const _ of sub) count++;
    })();
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await sub.close();
    await loop;
    assert.equal(count, 0);
    assert.ok(Date.now() - started < 2000, 'close() ends the loop promptly');
  });
}
