/**
 * Contract: readAll ordering, filters, `after`, `limit`, and headPosition.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { infoUpdated, rejected, uniqueCategory, uniqueStream, type ContractContext } from './fixtures.js';

/** Registers the global-log read tests. */
export function readingTests(ctx: ContractContext): void {
  void it('reads the global log in order with category, type, after and limit filters', async () => {
    const store = ctx.store();
    const [catA, catB] = [uniqueCategory(), uniqueCategory()];
    const [a1, a2, b1] = [uniqueStream(catA), uniqueStream(catA), uniqueStream(catB)];
    const h0 = await store.headPosition();
    await store.append(a1, [rejected(1), rejected(2)], 'no_stream');
    await store.append(b1, [infoUpdated('b')], 'no_stream');
    await store.append(a2, [infoUpdated('a2')], 'no_stream');
    const head = await store.headPosition();

    const all = await store.readAll({ after: h0, categories: [catA, catB] });
    assert.deepEqual(all.map((e) => e.streamName), [a1, a1, b1, a2]);
    for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.globalPosition < all[i]!.globalPosition, 'strictly increasing');
    assert.equal(all.at(-1)?.globalPosition, head);

    assert.deepEqual((await store.readAll({ after: h0, categories: [catA] })).map((e) => e.streamName), [a1, a1, a2]);
    const typed = await store.readAll({ after: h0, eventTypes: ['ChannelInfoUpdated'], categories: [catA, catB] });
    assert.deepEqual(typed.map((e) => e.streamName), [b1, a2]);
    const both = await store.readAll({ after: h0, eventTypes: ['PublishRejected'], categories: [catA] });
    assert.deepEqual(both.map((e) => e.revision), [0n, 1n]);
    const limited = await store.readAll({ after: h0, categories: [catA, catB], limit: 2 });
    assert.deepEqual(limited, all.slice(0, 2));
    const rest = await store.readAll({ after: all[1]!.globalPosition, categories: [catA, catB] });
    assert.deepEqual(rest, all.slice(2));
    assert.deepEqual(await store.readAll({ after: head }), []);
  });

  void it('reports the head position of the last committed event', async () => {
    const store = ctx.store();
    const before = await store.headPosition();
    const r = await store.append(uniqueStream(), [rejected()], 'no_stream');
    const head = await store.headPosition();
    assert.ok(head > before);
    assert.equal(head, r.lastGlobalPosition);
  });
}
