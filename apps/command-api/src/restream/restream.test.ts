/**
 * Restream targets on the command side (issue 10 item 7), real PostgreSQL and NATS: the owner's routes (add, list,
 * enable/disable, remove; validation, SSRF refusal, the cap of 5), the ingest's `ingest.restream-targets` (enabled
 * targets only, keys sealed under RESTREAM_KEY_SECRET) and `ingest.restream-state` (recorded, shown in the list).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RESTREAM_MAX_TARGETS, type RestreamTargetList, type RestreamTargetsReply, type RestreamTargetView } from '@eventcast/contracts';
import { CommandPatterns, streams } from '@eventcast/events';
import { decryptSecret } from '@eventcast/platform';
import { bearer, register, startHarness, type Harness } from '../test-support/harness.js';

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

    const report = { channelId: id, broadcastId, targetId: on.body.id, state: 'failed', reason: 'Connection refused' };
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
  });
});
