/**
 * Restream targets on the command side (issue 10 item 7), real PostgreSQL and NATS: the owner's routes (add, list,
 * enable/disable, remove; validation, SSRF refusal, the cap of 5), the ingest's `ingest.restream-targets` (enabled
 * targets only, keys sealed under RESTREAM_KEY_SECRET; an unreadable key skips only its target) and
 * `ingest.restream-state` (recorded for the live broadcast only, the key redacted from the reason, shown in the list).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RESTREAM_MAX_TARGETS, type RestreamTargetList, type RestreamTargetsReply, type RestreamTargetView } from '@eventcast/contracts';
import { CommandPatterns, newEvent, streams } from '@eventcast/events';
import { PostgresEventStore } from '@eventcast/event-store';
import { decryptSecret, encryptSecret } from '@eventcast/platform';
import { bearer, register, startHarness, type Harness } from '../test-support/harness.js';

const media = { videoCodec: 'h264', audioCodec: 'aac', width: 640, height: 360, frameRate: 30, videoBitrateKbps: 1000, audioSampleRate: 48000, audioChannels: 2 };

describe('restream targets (command side)', () => {
  let h: Harness;
  const restreamSecret = randomBytes(32).toString('hex');
  before(async () => {
    h = await startHarness({ RESTREAM_KEY_SECRET: restreamSecret, RESTREAM_ALLOW_PRIVATE_TARGETS: false });
  });
  after(() => h?.stop());

  it('add, list, disable/enable, remove; bad input is refused with the reason; at most 5', async () => {
    const { token, id } = await register(h, 'rs_owner');
    const auth = bearer(token);
    const key = 'live_0123456789_secretKEY';
    const added = await h.http<RestreamTargetView>('POST', '/me/restream-targets', { name: 'YouTube', url: 'rtmp://a.rtmp.youtube.com/live2/', streamKey: key }, auth);
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.deepEqual({ ...added.body, id: 'x' }, { id: 'x', name: 'YouTube', url: 'rtmp://a.rtmp.youtube.com/live2', enabled: true, live: null });
    assert.ok(!JSON.stringify(added.body).includes(key));

    const bad: [unknown, RegExp][] = [
      [{ name: 'x', url: 'http://example.org/live', streamKey: 'k' }, /rtmp:\/\/ or rtmps:\/\//],
      [{ name: 'x', url: 'rtmp://127.0.0.1/live', streamKey: 'k' }, /private, loopback or link-local/],
      [{ name: 'x', url: 'rtmp://localhost:1935/live', streamKey: 'k' }, /private, loopback or link-local/],
      // IPv4 shorthands that resolvers read as 127.0.0.1 (WHATWG URL IPv4 parser / inet_aton).
      [{ name: 'x', url: 'rtmp://2130706433/live', streamKey: 'k' }, /private, loopback or link-local/],
      [{ name: 'x', url: 'rtmp://0x7f000001/live', streamKey: 'k' }, /private, loopback or link-local/],
      [{ name: 'x', url: 'rtmp://127.1/live', streamKey: 'k' }, /private, loopback or link-local/],
      [{ name: 'x', url: 'rtmps://0177.0.0.1:443/live', streamKey: 'k' }, /private, loopback or link-local/],
      [{ name: 'x', url: 'rtmp://10.1/live', streamKey: 'k' }, /private, loopback or link-local/],
      // The URL is stored and shown in clear: the key belongs in its own (sealed) field.
      [{ name: 'x', url: 'rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl', streamKey: 'abcd-efgh-ijkl' }, /put the stream key in the key field, not in the URL/],
      [{ name: 'x', url: 'rtmp://a.rtmp.youtube.com/abcd-efgh-ijkl/live2', streamKey: 'abcd-efgh-ijkl' }, /not in the URL/],
      [{ name: 'x', url: 'rtmp://user:pw@example.org/live', streamKey: 'k' }, /credentials/],
      [{ name: 'x', url: 'rtmp://example.org/live?x=1', streamKey: 'k' }, /query/],
      [{ name: ' ', url: 'rtmp://example.org/live', streamKey: 'k' }, /name must not be blank/],
      [{ name: 'x', url: 'rtmp://example.org/live', streamKey: 'has space' }, /streamKey/],
      [{ name: 'x', url: 'rtmp://example.org/live' }, /./],
    ];
    for (const [body, reason] of bad) {
      const r = await h.http<{ message: unknown }>('POST', '/me/restream-targets', body, auth);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(JSON.stringify(r.body.message), reason);
    }

    const targetId = added.body.id;
    assert.equal((await h.http<RestreamTargetView>('POST', `/me/restream-targets/${targetId}/disable`, undefined, auth)).body.enabled, false);
    assert.equal((await h.http<RestreamTargetView>('POST', `/me/restream-targets/${targetId}/enable`, undefined, auth)).body.enabled, true);
    assert.equal((await h.http('POST', `/me/restream-targets/${randomUUID()}/enable`, undefined, auth)).status, 404);
    for (let i = 1; i < RESTREAM_MAX_TARGETS; i++) {
      assert.equal((await h.http('POST', '/me/restream-targets', { name: `t${i}`, url: 'rtmps://live.example.org/app', streamKey: `k${i}` }, auth)).status, 201);
    }
    const sixth = await h.http<{ message: string }>('POST', '/me/restream-targets', { name: 'six', url: 'rtmp://live.example.org/app', streamKey: 'k6' }, auth);
    assert.equal(sixth.status, 409);
    assert.match(JSON.stringify(sixth.body), /at most 5/);
    assert.equal((await h.http('DELETE', `/me/restream-targets/${targetId}`, undefined, auth)).status, 200);
    const list = await h.http<RestreamTargetList>('GET', '/me/restream-targets', undefined, auth);
    assert.equal(list.body.targets.length, RESTREAM_MAX_TARGETS - 1);
    assert.ok(!list.body.targets.some((t) => t.id === targetId));

    // Another account sees none of them; no route works without the owner's JWT.
    const other = await register(h, 'rs_other');
    assert.deepEqual((await h.http<RestreamTargetList>('GET', '/me/restream-targets', undefined, bearer(other.token))).body, { targets: [] });
    assert.equal((await h.http('GET', '/me/restream-targets')).status, 401);

    // The OpenAPI document shows the contract's body shape.
    const docs = await h.http<{ paths: Record<string, Record<string, { requestBody?: unknown }>> }>('GET', '/docs-json');
    assert.match(JSON.stringify(docs.body.paths['/me/restream-targets']?.['post']?.requestBody), /streamKey/);

    // The store holds the key only sealed.
    const events = await h.allEvents();
    const stored = events.filter((e) => e.streamName === streams.restream(id));
    assert.ok(stored.length > 0);
    assert.ok(!JSON.stringify(stored).includes(key), 'no plaintext key in the event store');
  });

  it('ingest: enabled targets with keys sealed for it; state reports are recorded and listed', async () => {
    const { token, id } = await register(h, 'rs_live');
    const auth = bearer(token);
    const on = await h.http<RestreamTargetView>('POST', '/me/restream-targets', { name: 'On', url: 'rtmp://on.example.org/live', streamKey: 'key_on_123' }, auth);
    const off = await h.http<RestreamTargetView>('POST', '/me/restream-targets', { name: 'Off', url: 'rtmp://off.example.org/live', streamKey: 'key_off_456' }, auth);
    await h.http('POST', `/me/restream-targets/${off.body.id}/disable`, undefined, auth);
    const broadcastId = randomUUID();
    const reply = await h.request<RestreamTargetsReply>(CommandPatterns.RestreamTargets, { channelId: id, broadcastId });
    assert.equal(reply.targets.length, 1);
    const t = reply.targets[0]!;
    assert.equal(t?.targetId, on.body.id);
    assert.equal(t?.url, 'rtmp://on.example.org/live');
    assert.equal(decryptSecret(t.keySealed, restreamSecret), 'key_on_123');
    assert.ok(!JSON.stringify(reply).includes('key_on_123'), 'the key is sealed on the bus');
    assert.throws(() => decryptSecret(t.keySealed, h.config.STREAM_KEY_SECRET), 'sealed for the ingest, not under STREAM_KEY_SECRET');

    const bad = await h.request<Record<string, unknown>>(CommandPatterns.RestreamTargets, { channelId: 'nope' });
    assert.equal(bad['code'], 'invalid_request');

    // A report while the channel is off air, or for another broadcast than the live one, records nothing.
    const report = { channelId: id, broadcastId, targetId: on.body.id, state: 'failed', reason: 'Connection refused' };
    assert.deepEqual(await h.request(CommandPatterns.RestreamState, report), { ok: true });
    await h.http('GET', '/me/stream-key', undefined, auth);
    assert.deepEqual(await h.request(CommandPatterns.BroadcastStart, { channelId: id, broadcastId, media }), { ok: true, broadcastId, record: true });
    assert.deepEqual(await h.request(CommandPatterns.RestreamState, { ...report, broadcastId: randomUUID(), state: 'live', reason: null }), { ok: true });
    assert.equal((await h.allEvents()).filter((e) => e.type === 'RestreamTargetStateChanged' && e.streamName === streams.restream(id)).length, 0);

    assert.deepEqual(await h.request(CommandPatterns.RestreamState, report), { ok: true });
    assert.deepEqual(await h.request(CommandPatterns.RestreamState, report), { ok: true }, 'a repeat is accepted (and not recorded twice)');
    const list = await h.http<RestreamTargetList>('GET', '/me/restream-targets', undefined, auth);
    const live = list.body.targets.find((x) => x.id === on.body.id)?.live;
    assert.equal(live?.state, 'failed');
    assert.equal(live?.reason, 'Connection refused');
    assert.equal(live?.broadcastId, broadcastId);
    const changes = (await h.allEvents()).filter((e) => e.type === 'RestreamTargetStateChanged' && e.streamName === streams.restream(id));
    assert.equal(changes.length, 1);
    const invalid = await h.request<Record<string, unknown>>(CommandPatterns.RestreamState, { ...report, state: 'exploded' });
    assert.equal(invalid['ok'], false);

    // A reason that echoes the key (e.g. ffmpeg printing the URL it was given) is recorded with the key redacted.
    const echoed = { ...report, state: 'retrying', reason: 'rtmp://on.example.org/live/key_on_123: Input/output error (key_on_123)' };
    assert.deepEqual(await h.request(CommandPatterns.RestreamState, echoed), { ok: true });
    const after = (await h.http<RestreamTargetList>('GET', '/me/restream-targets', undefined, auth)).body.targets.find((x) => x.id === on.body.id)?.live;
    assert.equal(after?.reason, 'rtmp://on.example.org/live/[stream key]: Input/output error ([stream key])');
    assert.ok(!JSON.stringify(await h.allEvents()).includes('key_on_123'), 'no plaintext key in the event store');

    // The broadcast ends: the ingest's `stopped` (racing the end) is still recorded, a later `live` for it is not.
    assert.deepEqual(await h.request(CommandPatterns.BroadcastEnd, { channelId: id, broadcastId, reason: 'unpublished' }), { ok: true });
    assert.deepEqual(await h.request(CommandPatterns.RestreamState, { ...report, state: 'stopped', reason: null }), { ok: true });
    assert.deepEqual(await h.request(CommandPatterns.RestreamState, { ...report, state: 'live', reason: null }), { ok: true });
    const ended = (await h.http<RestreamTargetList>('GET', '/me/restream-targets', undefined, auth)).body.targets.find((x) => x.id === on.body.id)?.live;
    assert.deepEqual([ended?.state, ended?.reason, ended?.broadcastId], ['stopped', null, broadcastId]);
  });

  it('ingest: a target whose key cannot be unsealed is skipped and logged by id; the others are returned', async () => {
    const { token, id } = await register(h, 'rs_rotated');
    const auth = bearer(token);
    const good = await h.http<RestreamTargetView>('POST', '/me/restream-targets', { name: 'Good', url: 'rtmp://good.example.org/live', streamKey: 'key_good_1' }, auth);
    // A target sealed under another STREAM_KEY_SECRET (e.g. after a rotation), written as the command side would.
    const badId = randomUUID();
    const staleKey = 'key_stale_2';
    const store = new PostgresEventStore({ connectionString: h.db.url });
    try {
      const data = { channelId: id, targetId: badId, name: 'Stale', url: 'rtmp://stale.example.org/live', keyCiphertext: encryptSecret(staleKey, randomBytes(32).toString('hex')) };
      await store.append(streams.restream(id), [newEvent('RestreamTargetAdded', data)], 'any');
    } finally {
      await store.close();
    }
    const reply = await h.request<RestreamTargetsReply & { code?: string }>(CommandPatterns.RestreamTargets, { channelId: id, broadcastId: randomUUID() });
    assert.equal(reply.code, undefined, JSON.stringify(reply));
    assert.deepEqual(reply.targets.map((t) => t.targetId), [good.body.id]);
    assert.equal(decryptSecret(reply.targets[0]!.keySealed, restreamSecret), 'key_good_1');
    const logged = h.logs.filter((l) => l.includes(badId));
    assert.ok(logged.some((l) => l.includes('cannot be unsealed')), 'the skipped target is logged by its id');
    const data = (await h.allEvents()).find((e) => e.type === 'RestreamTargetAdded' && (e.data as { targetId: string }).targetId === badId)!.data as { keyCiphertext: string };
    assert.ok(!h.logs.some((l) => l.includes(data.keyCiphertext) || l.includes(staleKey)), 'neither the key nor its ciphertext is logged');
  });
});
