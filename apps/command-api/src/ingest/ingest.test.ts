import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CommandPatterns } from '@eventcast/events';
import { PUBLISH_PROOF_WINDOW_MS } from '@eventcast/contracts';
import { createPublishProof, hashStreamKey, parseStreamKey } from '@eventcast/platform';
import { bearer, register, startHarness, type Harness } from '../test-support/harness.js';

const media = { videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, frameRate: 30, videoBitrateKbps: 2500, audioSampleRate: 48000, audioChannels: 2 };

describe('ingest commands over NATS', () => {
  let h: Harness;
  before(async () => {
    // The platform's NATS authorization model: the command API answers as the `command-api` user.
    h = await startHarness({}, { natsAuth: true });
  });
  after(async () => {
    await h.stop();
  });

  async function streamer(name: string): Promise<{ token: string; id: string; key: string }> {
    const { token, id } = await register(h, name);
    const key = (await h.http<{ streamKey: string }>('GET', '/me/stream-key', undefined, bearer(token))).body.streamKey;
    return { token, id, key };
  }
  /** An authorization request as the ingest sends it: a fresh one-time proof of `key`, never the key or its hash. */
  const request = (channelId: string | null, key: string, now = Date.now()) => ({
    channelId,
    proof: createPublishProof(hashStreamKey(key), channelId, now),
    remoteAddress: '10.1.2.3',
  });
  const authorize = (channelId: string | null, key: string) => h.request<Record<string, unknown>>(CommandPatterns.AuthorizePublish, request(channelId, key));

  it('allows the current key and refuses malformed, unknown and rotated keys, recording PublishRejected without secrets', async () => {
    const { token, id, key } = await streamer('ivan');
    assert.deepEqual(await authorize(parseStreamKey(key)?.channelId ?? null, key), { allowed: true, channelId: id, username: 'ivan' });

    const malformed = await authorize(null, 'live');
    assert.equal(malformed['allowed'], false);
    assert.equal(malformed['reason'], 'malformed_key');
    assert.equal(typeof malformed['message'], 'string');

    const unknownId = randomUUID();
    assert.equal((await authorize(unknownId, `ec_${unknownId.replace(/-/g, '')}_${'a'.repeat(43)}`))['reason'], 'unknown_channel');

    const rotated = await h.http<{ streamKey: string }>('POST', '/me/stream-key/rotate', undefined, bearer(token));
    assert.equal((await authorize(id, key))['reason'], 'invalid_key');
    assert.deepEqual(await authorize(id, rotated.body.streamKey), { allowed: true, channelId: id, username: 'ivan' });

    const events = await h.allEvents();
    const rejected = events.filter((e) => e.type === 'PublishRejected');
    assert.deepEqual(
      rejected.map((e) => [e.streamName, (e.data as { reason: string }).reason]),
      [
        ['ingest-unknown', 'malformed_key'],
        [`ingest-${unknownId}`, 'unknown_channel'],
        [`ingest-${id}`, 'invalid_key'],
      ],
    );
    for (const e of rejected) assert.deepEqual(Object.keys(e.data as object).sort(), ['channelId', 'reason', 'remoteAddress']);
    const stored = JSON.stringify(events);
    for (const k of [key, rotated.body.streamKey]) {
      assert.ok(!stored.includes(k), 'plaintext key stored');
      assert.ok(!h.logs.join('\n').includes(k), 'plaintext key logged');
    }
    assert.ok(!JSON.stringify(rejected).includes(hashStreamKey(key)), 'hash in PublishRejected');
  });

  it('starts a broadcast, refuses a second one while live, and ends it', async () => {
    const { id, key } = await streamer('judy');
    const b1 = randomUUID();
    const b2 = randomUUID();
    assert.deepEqual(await h.request(CommandPatterns.BroadcastStart, { channelId: id, broadcastId: b1, media }), { ok: true, broadcastId: b1, record: true });
    assert.deepEqual(await h.request(CommandPatterns.BroadcastStart, { channelId: id, broadcastId: b1, media }), { ok: true, broadcastId: b1, record: true }, 'retry is idempotent');
    const second = await h.request<Record<string, unknown>>(CommandPatterns.BroadcastStart, { channelId: id, broadcastId: b2, media });
    assert.deepEqual([second['ok'], second['code']], [false, 'already_live']);
    assert.equal((await authorize(id, key))['reason'], 'already_live');

    const mismatch = await h.request<Record<string, unknown>>(CommandPatterns.BroadcastEnd, { channelId: id, broadcastId: b2, reason: 'unpublished' });
    assert.deepEqual([mismatch['ok'], mismatch['code']], [false, 'broadcast_mismatch']);
    assert.deepEqual(await h.request(CommandPatterns.BroadcastEnd, { channelId: id, broadcastId: b1, reason: 'unpublished' }), { ok: true });
    const notLive = await h.request<Record<string, unknown>>(CommandPatterns.BroadcastEnd, { channelId: id, broadcastId: b1, reason: 'unpublished' });
    assert.deepEqual([notLive['ok'], notLive['code'], typeof notLive['message']], [false, 'not_live', 'string']);

    const started = (await h.allEvents()).filter((e) => e.streamName === `broadcast-${id}`);
    assert.deepEqual(started.map((e) => e.type), ['BroadcastStarted', 'BroadcastEnded']);
    assert.equal((started[0]?.data as { username: string }).username, 'judy');
  });

  it('refuses a broadcast on an unknown channel', async () => {
    const r = await h.request<Record<string, unknown>>(CommandPatterns.BroadcastStart, { channelId: randomUUID(), broadcastId: randomUUID(), media });
    assert.deepEqual([r['ok'], r['code']], [false, 'unknown_channel']);
  });

  it('ends every live broadcast when an ingest node starts', async () => {
    const a = await streamer('kate');
    const b = await streamer('liam');
    await h.request(CommandPatterns.BroadcastStart, { channelId: a.id, broadcastId: randomUUID(), media });
    await h.request(CommandPatterns.BroadcastStart, { channelId: b.id, broadcastId: randomUUID(), media });
    assert.deepEqual(await h.request(CommandPatterns.IngestNodeStarted, { ingestId: 'ingest-1' }), { ended: 2 });
    assert.deepEqual(await h.request(CommandPatterns.IngestNodeStarted, { ingestId: 'ingest-1' }), { ended: 0 });
    const ended = (await h.allEvents()).filter((e) => e.type === 'BroadcastEnded' && [a.id, b.id].some((id) => e.streamName.endsWith(id)));
    assert.equal(ended.length, 2);
    assert.ok(ended.every((e) => (e.data as { reason: string }).reason === 'ingest_restart'));
    assert.deepEqual(await authorize(a.id, a.key), { allowed: true, channelId: a.id, username: 'kate' });
  });

  it('answers invalid payloads with a clear error and records nothing', async () => {
    const before = (await h.allEvents()).length;
    const bad = await h.request<Record<string, unknown>>(CommandPatterns.AuthorizePublish, { channelId: 'nope', proof: { nonce: 'xyz' } });
    assert.equal(bad['allowed'], false);
    assert.equal(bad['reason'], 'invalid_request');
    assert.match(String(bad['message']), /channelId/);
    assert.match(String(bad['message']), /proof\.nonce/);
    assert.match(String(bad['message']), /proof\.mac/);
    const badStart = await h.request<Record<string, unknown>>(CommandPatterns.BroadcastStart, { channelId: randomUUID(), broadcastId: 'x', media: {} });
    assert.deepEqual([badStart['ok'], badStart['code']], [false, 'invalid_request']);
    const badEnd = await h.request<Record<string, unknown>>(CommandPatterns.BroadcastEnd, { channelId: randomUUID(), broadcastId: randomUUID(), reason: 'bored' });
    assert.deepEqual([badEnd['ok'], badEnd['code']], [false, 'invalid_request']);
    const badNode = await h.request<Record<string, unknown>>(CommandPatterns.IngestNodeStarted, { ingestId: 42 });
    assert.deepEqual([badNode['ended'], badNode['code']], [0, 'invalid_request']);
    assert.equal((await h.allEvents()).length, before);
  });

  it('refuses a replayed proof, a stale one and one made with another key (no key hash on the bus)', async () => {
    const { id, key } = await streamer('mona');
    const captured = request(id, key);
    assert.deepEqual(await h.request(CommandPatterns.AuthorizePublish, captured), { allowed: true, channelId: id, username: 'mona' });
    const replay = await h.request<Record<string, unknown>>(CommandPatterns.AuthorizePublish, captured);
    assert.deepEqual([replay['allowed'], replay['reason']], [false, 'invalid_key']);
    assert.match(String(replay['message']), /already used/);

    const stale = await h.request<Record<string, unknown>>(CommandPatterns.AuthorizePublish, request(id, key, Date.now() - PUBLISH_PROOF_WINDOW_MS - 1000));
    assert.deepEqual([stale['allowed'], stale['reason']], [false, 'invalid_key']);
    assert.match(String(stale['message']), /too old/);

    // A proof bound to another channel does not carry over, even with the right key.
    const other = await streamer('nina');
    const moved = { ...request(other.id, key), channelId: id };
    assert.equal((await h.request<Record<string, unknown>>(CommandPatterns.AuthorizePublish, moved))['reason'], 'invalid_key');

    // A fresh proof of the same key still works: only the captured one is spent.
    assert.deepEqual(await authorize(id, key), { allowed: true, channelId: id, username: 'mona' });
    assert.ok(!JSON.stringify(captured).includes(hashStreamKey(key)), 'the request carries no key hash');
  });
});
