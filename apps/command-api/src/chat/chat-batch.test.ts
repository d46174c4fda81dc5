/**
 * NATS `chat.send-batch` (the realtime edge's batched `chat.send`, @eventcast/contracts `chatSendBatchRequestSchema`)
 * against a real command-api, PostgreSQL and NATS: replies in request order, one malformed request refused alone,
 * a malformed envelope refused as a whole, and overload shedding: requests still undecided when the batch's
 * `budgetMs` has passed are answered `unavailable` without being decided, and a resend with the same nonce is then
 * stored exactly once.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { CommandPatterns, streams } from '@eventcast/events';
import type { ChatSendBatchReply, ChatSendReply } from '@eventcast/contracts';
import { IdempotencyStore } from '../idempotency/idempotency-store.js';
import { startHarness, type Harness } from '../test-support/harness.js';
import { room, type TestUser } from './chat-test-support.js';

describe('chat.send-batch', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  const item = (channel: TestUser, sender: TestUser, text: string, nonce?: string) => ({
    channelId: channel.id,
    senderId: sender.id,
    senderName: sender.name,
    text,
    ...(nonce === undefined ? {} : { nonce }),
  });
  const batch = (requests: unknown[], budgetMs = 10_000) => h.request<ChatSendBatchReply>(CommandPatterns.ChatSendBatch, { requests, budgetMs });
  const sentTexts = async (channelId: string) =>
    (await h.allEvents()).filter((e) => e.streamName === streams.chat(channelId) && e.type === 'ChatMessageSent').map((e) => (e.data as { text: string }).text);

  it('answers every request in order; a malformed or refused one does not disturb the others', async () => {
    const r = await room(h, 'batch');
    const reply = await batch([
      item(r.owner, r.viewer, 'first', 'b-1'),
      { channelId: 'not-a-uuid', senderId: r.viewer.id, senderName: r.viewer.name, text: 'x' },
      item(r.owner, r.mod, '   '),
      item(r.owner, r.mod, 'third', 'b-3'),
      item(r.owner, r.viewer, 'fourth', 'b-2'),
    ]);
    assert.equal(reply.ok, true);
    const replies = (reply as { replies: ChatSendReply[] }).replies;
    assert.deepEqual(
      replies.map((x) => (x.ok ? 'ok' : x.code)),
      ['ok', 'invalid_request', 'empty', 'ok', 'ok'],
    );
    assert.deepEqual(await sentTexts(r.owner.id), ['first', 'third', 'fourth']);
    // A resent batch with the same nonces replays the first acks (idempotent per sender and nonce).
    const again = (await batch([item(r.owner, r.viewer, 'first', 'b-1')])) as { replies: ChatSendReply[] };
    assert.deepEqual(again.replies[0], replies[0]);
    assert.deepEqual(await sentTexts(r.owner.id), ['first', 'third', 'fourth']);
  });

  it('refuses a malformed envelope as a whole, with the reason', async () => {
    for (const body of [{}, { requests: [], budgetMs: 100 }, { requests: Array(257).fill({}), budgetMs: 100 }, { requests: [{}], budgetMs: 0 }, 'x']) {
      const reply = await h.request<Record<string, unknown>>(CommandPatterns.ChatSendBatch, body);
      assert.deepEqual([reply['ok'], reply['code']], [false, 'invalid_request'], JSON.stringify(body).slice(0, 60));
      assert.equal(typeof reply['message'], 'string');
    }
  });

  it('sheds requests still undecided at the deadline (unavailable, not stored); their resend is stored once', async () => {
    const r = await room(h, 'shed');
    // Hold the chat room's append: an exclusive lock on the events table (reads still pass) in another session.
    const locker = new pg.Client({ connectionString: h.db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE eventstore.events IN EXCLUSIVE MODE');
      // A: decided at once, its append waits for the lock; B: queued behind it in the room's lane, 300 ms budget.
      const a = batch([item(r.owner, r.viewer, 'held', 's-a')]);
      await sleep(200);
      const b = batch([item(r.owner, r.viewer, 'late 1', 's-b1'), item(r.owner, r.mod, 'late 2', 's-b2'), item(r.owner, r.other, 'late 3')], 300);
      await sleep(100);
      // C: plenty of budget, but its first message comes from a sender whose earlier message (B's 'late 1') will be
      // shed: it is shed too, or the resend of 'late 1' would land after it. The owner's message is decided.
      const c = batch([item(r.owner, r.viewer, 'late 4', 's-c1'), item(r.owner, r.owner, 'unrelated', 's-c2')]);
      await sleep(900);
      await locker.query('COMMIT');
      const [ra, rb, rc] = (await Promise.all([a, b, c])) as Array<{ ok: true; replies: ChatSendReply[] }>;
      assert.equal(ra!.replies[0]!.ok, true);
      assert.deepEqual(rc!.replies.map((x) => (x.ok ? 'ok' : x.code)), ['unavailable', 'ok']);
      for (const x of rb!.replies) {
        assert.equal(x.ok, false);
        if (!x.ok) {
          assert.equal(x.code, 'unavailable');
          assert.equal(typeof x.retryAfterMs, 'number');
        }
      }
    } finally {
      await locker.end();
    }
    assert.deepEqual(await sentTexts(r.owner.id), ['held', 'unrelated']);
    // The shed nonces were released: the resends are decided and stored, once, in the sender's order.
    const resent = (await batch([item(r.owner, r.viewer, 'late 1', 's-b1'), item(r.owner, r.mod, 'late 2', 's-b2'), item(r.owner, r.viewer, 'late 4', 's-c1')])) as {
      replies: ChatSendReply[];
    };
    assert.deepEqual(resent.replies.map((x) => x.ok), [true, true, true]);
    await batch([item(r.owner, r.viewer, 'late 1', 's-b1')]);
    assert.deepEqual(await sentTexts(r.owner.id), ['held', 'unrelated', 'late 1', 'late 2', 'late 4']);
  });
  it('requests whose deadline passes while their claims queue are never claimed, answered unavailable, and leave no record', async () => {
    const r = await room(h, 'shedclaim');
    // Every key that reaches PostgreSQL's claim statement (the store is the app's own instance).
    const store = h.api.app.get(IdempotencyStore);
    const claimedScopes: string[] = [];
    const beginMany = store.beginMany.bind(store);
    store.beginMany = (items) => {
      claimedScopes.push(...items.map((i) => i.scope));
      return beginMany(items);
    };
    const locker = new pg.Client({ connectionString: h.db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE idempotency.keys IN EXCLUSIVE MODE');
      // A's claim statement waits for the lock; B's claims queue behind it (one claim statement at a time).
      const a = batch([item(r.owner, r.viewer, 'first in', 'c-a')]);
      await sleep(200);
      const b = batch([item(r.owner, r.mod, 'queued 1', 'c-b1'), item(r.owner, r.other, 'queued 2', 'c-b2')], 300);
      await sleep(1000);
      await locker.query('COMMIT');
      const [ra, rb] = (await Promise.all([a, b])) as Array<{ ok: true; replies: ChatSendReply[] }>;
      assert.equal(ra!.replies[0]!.ok, true);
      assert.deepEqual(rb!.replies.map((x) => (x.ok ? 'ok' : x.code)), ['unavailable', 'unavailable']);
    } finally {
      await locker.end();
    }
    const reader = new pg.Client({ connectionString: h.db.url });
    await reader.connect();
    try {
      const rows = await reader.query<{ n: string }>(`SELECT count(*) AS n FROM idempotency.keys WHERE scope = ANY($1)`, [[`chat.send:${r.mod.id}`, `chat.send:${r.other.id}`]]);
      assert.equal(Number(rows.rows[0]!.n), 0, 'no record written for the shed requests');
    } finally {
      await reader.end();
    }
    assert.deepEqual(await sentTexts(r.owner.id), ['first in']);
    assert.ok(claimedScopes.includes(`chat.send:${r.viewer.id}`));
    assert.ok(!claimedScopes.includes(`chat.send:${r.mod.id}`) && !claimedScopes.includes(`chat.send:${r.other.id}`), 'the shed requests never reached the claim statement');
    store.beginMany = beginMany;
  });
});
