/**
 * Contract: global positions stay strictly increasing (and gap-free where the store promises it) under many
 * concurrent appends across streams mixed with appends that fail and roll back.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { readAllAfter, rejected, uniqueCategory, uniqueStream, type ContractContext } from './fixtures.js';

/** Registers the global-position test. */
export function positionTests(ctx: ContractContext): void {
  void it('assigns strictly increasing, gap-free positions under concurrent appends with rollbacks', { timeout: 60_000 }, async () => {
    const store = ctx.store();
    const category = uniqueCategory();
    const streams = Array.from({ length: 10 }, () => uniqueStream(category));
    const h0 = await store.headPosition();
    const takenId = randomUUID();
    await store.append(streams[0]!, [rejected(0, takenId)], 'no_stream');
    let written = 1;
    const jobs: Promise<void>[] = [];
    for (let round = 0; round < 10; round++) {
      for (const [i, stream] of streams.entries()) {
        const size = 1 + ((round + i) % 3);
        jobs.push(
          store.append(stream, Array.from({ length: size }, (_, k) => rejected(k)), 'any').then(() => {
            written += size;
          }),
        );
        if ((round + i) % 7 === 0) {
          // Fails after the revision check (reused event id): the transaction rolls back after taking positions.
          jobs.push(store.append(stream, [rejected(1), rejected(2, takenId)], 'any').then(
              () => void (written += 2),
              () => undefined,
            ));
          // Fails validation mid-batch, and fails the revision check.
          jobs.push(store.append(stream, [rejected(), { type: 'Bogus', data: {} }], 'any').then(() => undefined, () => undefined));
          jobs.push(store.append(stream, [rejected()], 10_000n).then(() => undefined, () => undefined));
        }
      }
    }
    await Promise.all(jobs);
    const events = await readAllAfter(store, h0, { categories: [category] });
    assert.equal(events.length, written);
    const positions = events.map((e) => e.globalPosition);
    for (let i = 1; i < positions.length; i++) assert.ok(positions[i - 1]! < positions[i]!, `position ${i} not increasing: ${positions.slice(Math.max(0, i - 3), i + 3).join(',')}`);
    if (ctx.gapFreePositions) {
      assert.deepEqual(positions, Array.from({ length: written }, (_, i) => h0 + 1n + BigInt(i)), 'positions are h0+1..h0+N');
    }
    assert.equal(await store.headPosition(), positions.at(-1));
    for (const stream of streams) {
      const revisions = (await store.readStream(stream)).map((e) => e.revision);
      assert.deepEqual(revisions, revisions.map((_, i) => BigInt(i)), 'stream revisions are 0..n-1');
    }
  });
}
