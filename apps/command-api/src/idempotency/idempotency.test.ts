/**
 * Issue 9 item 11 on the command side, against a real PostgreSQL and NATS: retried commands never duplicate.
 * HTTP `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header): same key + same request → one event and the
 * first response replayed; same key + another body → 422; a malformed key → 400. NATS `chat.send` with a nonce:
 * retries (also concurrent ones) → one event and the same ack; the nonce reused for another text → refused. And the
 * last line of defence: with the idempotency record gone, a retry is still appended once (derived event ids).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER } from '@eventcast/contracts';
import { CommandPatterns, streams } from '@eventcast/events';
import { bearer, startHarness, type Harness } from '../test-support/harness.js';
import { createTestDatabase } from '@eventcast/platform';
import { room } from '../chat/chat-test-support.js';
import { IdempotencyStore } from './idempotency-store.js';

describe('idempotent commands', () => {
  let h: Harness;
  let db: pg.Pool;
  before(async () => {
    h = await startHarness();
    db = new pg.Pool({ connectionString: h.db.url, max: 2 });
  });
  after(async () => {
    await db.end();
    await h.stop();
  });
  const chatEvents = async (channelId: string, type: string) =>
    (await h.allEvents()).filter((e) => e.streamName === streams.chat(channelId) && e.type === type);

  it('HTTP send retried with the same Idempotency-Key: one event, the same response; another body → 422', async () => {
    const r = await room(h, 'idh');
    const key = randomUUID();
    const headers = { ...bearer(r.viewer.token), [IDEMPOTENCY_KEY_HEADER]: key };
    const path = `/channels/${r.owner.name}/chat/messages`;
    const first = await h.http('POST', path, { text: 'exactly once' }, headers);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.headers.get(IDEMPOTENT_REPLAYED_HEADER), null);
    for (let i = 0; i < 3; i++) {
      const again = await h.http('POST', path, { text: 'exactly once' }, headers);
      assert.equal(again.status, 201);
      assert.deepEqual(again.body, first.body);
      assert.equal(again.headers.get(IDEMPOTENT_REPLAYED_HEADER), 'true');
    }
    // Concurrent retries: one runs, the others are replayed or told it is in flight (409), never appended twice.
    const key2 = randomUUID();
    const burst = await Promise.all(
      Array.from({ length: 5 }, () => h.http('POST', path, { text: 'burst' }, { ...bearer(r.viewer.token), [IDEMPOTENCY_KEY_HEADER]: key2 })),
    );
    assert.ok(burst.every((b) => b.status === 201 || (b.status === 409 && b.body['code'] === 'idempotency_key_in_flight')), JSON.stringify(burst.map((b) => b.status)));
    const sent = await chatEvents(r.owner.id, 'ChatMessageSent');
    assert.deepEqual(sent.map((e) => (e.data as { text: string }).text), ['exactly once', 'burst']);
    assert.equal((sent[0]?.data as { messageId: string }).messageId, first.body['messageId']);

    const other = await h.http('POST', path, { text: 'something else' }, headers);
    assert.equal(other.status, 422);
    assert.equal(other.body['code'], 'idempotency_key_reused');
    // The same key from another user is that user's own key.
    const theirs = await h.http('POST', path, { text: 'exactly once' }, { ...bearer(r.other.token), [IDEMPOTENCY_KEY_HEADER]: key });
    assert.equal(theirs.status, 201);
    assert.notEqual(theirs.body['messageId'], first.body['messageId']);
    const bad = await h.http('POST', path, { text: 'x' }, { ...bearer(r.viewer.token), [IDEMPOTENCY_KEY_HEADER]: 'k'.repeat(300) });
    assert.equal(bad.status, 400);
    assert.equal(bad.body['code'], 'invalid_idempotency_key');
    assert.equal((await chatEvents(r.owner.id, 'ChatMessageSent')).length, 3);
  });

  it('a ban retried with the same Idempotency-Key: one event, the same response; same key on another route → 422', async () => {
    const r = await room(h, 'idb');
    const headers = { ...bearer(r.mod.token), [IDEMPOTENCY_KEY_HEADER]: `"ban-${randomUUID()}"` };
    const path = `/channels/${r.owner.name}/chat/bans`;
    const first = await h.http('POST', path, { username: r.viewer.name, reason: 'spam' }, headers);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    // Between the retries the owner unbans: a replay must not ban again.
    assert.equal((await h.http('DELETE', `${path}/${r.viewer.name}`, undefined, bearer(r.owner.token))).status, 200);
    for (let i = 0; i < 3; i++) {
      const again = await h.http('POST', path, { reason: 'spam', username: r.viewer.name }, headers); // key order does not matter
      assert.equal(again.status, 201);
      assert.deepEqual(again.body, first.body);
    }
    assert.equal((await chatEvents(r.owner.id, 'ChatUserBanned')).length, 1);
    const elsewhere = await h.http('POST', `/channels/${r.owner.name}/chat/timeouts`, { username: r.viewer.name, durationSeconds: 60 }, headers);
    assert.equal(elsewhere.status, 422);
    // A refusal is replayed too (403 stays 403 for the same key), and nothing is recorded.
    const viewerKey = { ...bearer(r.viewer.token), [IDEMPOTENCY_KEY_HEADER]: randomUUID() };
    const refused = await h.http('POST', path, { username: r.other.name }, viewerKey);
    assert.equal(refused.status, 403);
    const refusedAgain = await h.http('POST', path, { username: r.other.name }, viewerKey);
    assert.deepEqual([refusedAgain.status, refusedAgain.body], [403, refused.body]);
    assert.equal(refusedAgain.headers.get(IDEMPOTENT_REPLAYED_HEADER), 'true');
  });

  it('other HTTP commands (channel info) honour the key too: a late retry is replayed, not run again', async () => {
    const r = await room(h, 'idc');
    const headers = { ...bearer(r.owner.token), [IDEMPOTENCY_KEY_HEADER]: randomUUID() };
    const first = await h.http('PUT', '/me/channel', { title: 'first title' }, headers);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal((await h.http('PUT', '/me/channel', { title: 'second title' }, bearer(r.owner.token))).status, 200);
    const retry = await h.http('PUT', '/me/channel', { title: 'first title' }, headers);
    assert.deepEqual([retry.status, retry.body], [200, first.body]);
    const updates = (await h.allEvents()).filter((e) => e.type === 'ChannelInfoUpdated' && (e.data as { channelId: string }).channelId === r.owner.id);
    assert.deepEqual(updates.map((e) => (e.data as { title: string }).title), ['first title', 'second title']);
  });

  it('NATS chat.send retried with the same nonce: one event and the same ack, also when retries race', async () => {
    const r = await room(h, 'idn');
    const send = (nonce: string, text: string) =>
      h.request<Record<string, unknown>>(CommandPatterns.ChatSend, { channelId: r.owner.id, senderId: r.viewer.id, senderName: r.viewer.name, text, nonce });
    const nonce = randomUUID();
    const first = await send(nonce, 'hello once');
    assert.equal(first['ok'], true, JSON.stringify(first));
    for (let i = 0; i < 3; i++) assert.deepEqual(await send(nonce, 'hello once'), first);
    const racing = await Promise.all(Array.from({ length: 4 }, () => send('race-nonce', 'raced')));
    assert.ok(racing.every((x) => x['ok'] === true && x['messageId'] === racing[0]?.['messageId']), JSON.stringify(racing));
    const reused = await send(nonce, 'another text');
    assert.deepEqual([reused['ok'], reused['code']], [false, 'invalid_request']);
    // Another sender's identical nonce is theirs.
    const theirs = await h.request<Record<string, unknown>>(CommandPatterns.ChatSend, { channelId: r.owner.id, senderId: r.other.id, senderName: r.other.name, text: 'hello once', nonce });
    assert.equal(theirs['ok'], true);
    const texts = (await chatEvents(r.owner.id, 'ChatMessageSent')).map((e) => (e.data as { text: string }).text);
    assert.deepEqual(texts, ['hello once', 'raced', 'hello once']);
  });

  it('without the idempotency record (lost, or another process raced past it) a retry is still appended once', async () => {
    const r = await room(h, 'idl');
    const nonce = randomUUID();
    const send = () => h.request<Record<string, unknown>>(CommandPatterns.ChatSend, { channelId: r.owner.id, senderId: r.viewer.id, senderName: r.viewer.name, text: 'only one', nonce });
    const first = await send();
    assert.equal(first['ok'], true);
    await db.query('DELETE FROM idempotency.keys');
    assert.deepEqual(await send(), first);
    // The same over HTTP for a ban, whose retry reaches the store with the same derived event id.
    const headers = { ...bearer(r.owner.token), [IDEMPOTENCY_KEY_HEADER]: randomUUID() };
    assert.equal((await h.http('POST', `/channels/${r.owner.name}/chat/bans`, { username: r.other.name }, headers)).status, 201);
    await db.query('DELETE FROM idempotency.keys');
    assert.equal((await h.http('DELETE', `/channels/${r.owner.name}/chat/bans/${r.other.name}`, undefined, bearer(r.owner.token))).status, 200);
    assert.equal((await h.http('POST', `/channels/${r.owner.name}/chat/bans`, { username: r.other.name }, headers)).status, 201);
    assert.equal((await chatEvents(r.owner.id, 'ChatMessageSent')).length, 1);
    assert.equal((await chatEvents(r.owner.id, 'ChatUserBanned')).length, 1);
  });

  it('chat.send retried while its first attempt is still in flight: unavailable with retryAfterMs, not internal_error', async () => {
    const r = await room(h, 'idi');
    const nonce = randomUUID();
    const send = () => h.request<Record<string, unknown>>(CommandPatterns.ChatSend, { channelId: r.owner.id, senderId: r.viewer.id, senderName: r.viewer.name, text: 'slow one', nonce });
    assert.equal((await send())['ok'], true);
    // The record as a first attempt still being decided leaves it (its lock held for an hour).
    const held = await db.query(`UPDATE idempotency.keys SET state = 'in_flight', response = NULL, locked_until = now() + interval '1 hour' WHERE scope = $1`, [`chat.send:${r.viewer.id}`]);
    assert.equal(held.rowCount, 1);
    const retry = await send();
    assert.deepEqual([retry['ok'], retry['code'], retry['retryAfterMs']], [false, 'unavailable', 500]);
  });

  it('a keyed follow retried after follow → unfollow, its record lost: answered as done, not a 500', async () => {
    const r = await room(h, 'idf');
    const path = `/channels/${r.owner.name}/follow`;
    const headers = { ...bearer(r.viewer.token), [IDEMPOTENCY_KEY_HEADER]: randomUUID() };
    const first = await h.http('PUT', path, undefined, headers);
    assert.deepEqual([first.status, first.body], [200, { following: true }]);
    await db.query('DELETE FROM idempotency.keys');
    assert.equal((await h.http('DELETE', path, undefined, bearer(r.viewer.token))).status, 200);
    const retry = await h.http('PUT', path, undefined, headers);
    assert.deepEqual([retry.status, retry.body], [200, { following: true }]);
    const follows = (await h.allEvents()).filter((e) => e.streamName === streams.follows(r.owner.id)).map((e) => e.type);
    assert.deepEqual(follows, ['ChannelFollowed', 'ChannelUnfollowed']);
  });
});

describe('IdempotencyStore.beginMany / completeMany (group commit of chat.send records)', () => {
  it('one statement claims a group; each item gets what begin would answer', async () => {
    const tdb = await createTestDatabase('idem_many');
    const store = new IdempotencyStore(tdb.url);
    try {
      await store.migrate();
      const [done, open] = [randomUUID(), randomUUID()];
      const a = await store.begin('s', done, 'f1');
      assert.equal(a.state, 'claimed');
      if (a.state === 'claimed') await store.completeMany([{ record: a.record, response: { ok: true, n: 1 } }]);
      assert.equal((await store.begin('s', open, 'f2')).state, 'claimed');
      const fresh = randomUUID();
      const out = await store.beginMany<{ ok: boolean; n: number }>([
        { scope: 's', key: fresh, fingerprint: 'f3' }, // new → claimed
        { scope: 's', key: done, fingerprint: 'f1' }, // done → replay
        { scope: 's', key: done, fingerprint: 'other' }, // same key, another request → mismatch
        { scope: 's', key: open, fingerprint: 'f2' }, // still in flight
        { scope: 's', key: fresh, fingerprint: 'f3' }, // repeated in the group: settled by begin → in flight (the first claimed it)
        { scope: 't', key: fresh, fingerprint: 'f3' }, // another scope → its own key
      ]);
      assert.deepEqual(out.map((c) => c.state), ['claimed', 'replay', 'mismatch', 'in_flight', 'in_flight', 'claimed']);
      assert.deepEqual(out[1]?.state === 'replay' ? out[1].response : null, { ok: true, n: 1 });
      const claimed = out.flatMap((c) => (c.state === 'claimed' ? [c.record] : []));
      await store.completeMany(claimed.map((record, i) => ({ record, response: { ok: true, n: 10 + i } })));
      const again = await store.beginMany<{ n: number }>([{ scope: 's', key: fresh, fingerprint: 'f3' }, { scope: 't', key: fresh, fingerprint: 'f3' }]);
      assert.deepEqual(again.map((c) => (c.state === 'replay' ? c.response.n : c.state)), [10, 11]);
    } finally {
      await store.close();
      await tdb.drop();
    }
  });
});
