/**
 * The COPY fast path of `replay` (PostgreSQL renders the JSON lines, `PostgresEventStore.copyJsonLines`): the
 * marked-line splitter under every chunk cut, and equality (line by line, as JSON) with the decoding path through the
 * event-store port on a chat-heavy history with old-version (upcast) events, redacted types, unusual metadata and
 * unicode/escapes, redacted and unredacted, with type/category filters and position bounds.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { streams } from '@eventcast/events';
import type { EventStore } from '@eventcast/event-store';
import { chatHeavyMix, loadEvents, type RawEvent } from './generate.js';
import { markedLineSplitter, replay, type ReplayOptions } from './replay.js';
import { createStoreDb, type StoreDb } from './test-support.js';

/** Collects everything written, as one string. */
class Sink extends Writable {
  private readonly parts: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.parts.push(Buffer.from(chunk));
    cb();
  }
  get text(): string {
    return Buffer.concat(this.parts).toString('utf8');
  }
}

void describe('replay through COPY', () => {
  void it('splits marked lines correctly wherever the chunks are cut', async () => {
    const input = Buffer.from('{"a":1}\n!{"b":"é"}\n{"c":"x!y"}\n!{"d":4}\n{"e":5}\n', 'utf8');
    const expected = '{"a":1}\nEXACT({"b":"é"})\n{"c":"x!y"}\nEXACT({"d":4})\n{"e":5}\n';
    for (let i = 0; i <= input.length; i++) {
      for (let j = i; j <= input.length; j++) {
        // Decode only the concatenation: a cut may fall inside a multi-byte character.
        const bytes: Buffer[] = [];
        const collect = markedLineSplitter(
          (line) => `EXACT(${line})\n`,
          (chunk) => {
            bytes.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
            return Promise.resolve();
          },
        );
        for (const part of [input.subarray(0, i), input.subarray(i, j), input.subarray(j)]) {
          if (part.length > 0) await collect.push(part);
        }
        await collect.end();
        assert.equal(Buffer.concat(bytes).toString('utf8'), expected, `cuts at ${i}, ${j}`);
      }
    }
    const open = markedLineSplitter(
      (l) => l,
      () => Promise.resolve(),
    );
    await open.push(Buffer.from('{"a":1}\n!{"b"'));
    await assert.rejects(open.end(), /inside a line/);
  });

  void describe('equals the decoding path', () => {
    let s: StoreDb;
    before(async () => {
      s = await createStoreDb();
      for (const batch of chatHeavyMix({ events: 6000, channels: 5, users: 60, batchSize: 3000 })) await loadEvents(s.store.pool, batch);
      const channel = randomUUID();
      const at = new Date();
      const odd: RawEvent[] = [
        // v1 ChatMessageSent (no sentAt): upcast on the way out.
        {
          stream: streams.chat(channel),
          type: 'ChatMessageSent',
          version: 1,
          data: { channelId: channel, username: 'odd', messageId: randomUUID(), senderId: randomUUID(), senderName: 'oldv1', senderRole: 'viewer', text: 'old "shape" \\ ✓', maskedTerms: 0, visibleAt: at.toISOString() },
          occurredAt: at,
        },
        // Metadata with a sensitive key and a nested object: redacted in JS.
        {
          stream: streams.chat(channel),
          type: 'ChatMessageSent',
          version: 2,
          data: { channelId: channel, username: 'odd', messageId: randomUUID(), senderId: randomUUID(), senderName: 'meta', senderRole: 'viewer', text: 'line\nbreak\ttab', maskedTerms: 0, sentAt: at.toISOString(), visibleAt: at.toISOString() },
          metadata: { correlationId: randomUUID(), remoteAddress: '203.0.113.9', client: { token: 'abc' } },
          occurredAt: at,
        },
      ];
      await loadEvents(s.store.pool, odd);
    });
    after(async () => s?.close());

    /** The same store without its PostgreSQL fast paths: replay decodes every page through the port. */
    const portOnly = (): Pick<EventStore, 'readAll' | 'headPosition' | 'subscribeToAll'> => ({
      readAll: (o) => s.store.readAll(o),
      headPosition: () => s.store.headPosition(),
      subscribeToAll: (o) => s.store.subscribeToAll(o),
    });

    const run = async (store: Pick<EventStore, 'readAll' | 'headPosition' | 'subscribeToAll'>, o: Omit<ReplayOptions, 'out' | 'format'>) => {
      const out = new Sink();
      const r = await replay(store, { ...o, format: 'jsonl', out, batchSize: 700 });
      return { text: out.text, r };
    };

    const cases: [string, Omit<ReplayOptions, 'out' | 'format'>][] = [
      ['redacted', {}],
      ['unredacted', { unredacted: true }],
      ['positions', { fromPosition: 1234n, toPosition: 5100n }],
      ['types', { types: ['ChatMessageSent', 'AccountRegistered'] }],
      ['categories', { categories: ['account'] }],
    ];
    for (const [name, o] of cases) {
      void it(name, async () => {
        const fast = await run(s.store, o);
        const slow = await run(portOnly(), o);
        assert.ok(fast.r.written > 0);
        assert.equal(fast.r.written, slow.r.written);
        // Same events, same order, same values (the fast path keeps PostgreSQL's jsonb text of the payloads: the
        // spacing differs from JSON.stringify, the JSON does not).
        const parse = (t: string) => t.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as unknown);
        assert.deepEqual(parse(fast.text), parse(slow.text));
        assert.ok(fast.text.endsWith('\n'));
        if (name === 'redacted') {
          assert.match(fast.text, /"remoteAddress":"\[redacted\]"/);
          assert.match(fast.text, /"passwordHash":"\[redacted\]"/);
          assert.match(fast.text, /"version":2,[^\n]*"senderName":"oldv1"/);
        }
      });
    }
  });
});
