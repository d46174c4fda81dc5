/**
 * PUT /me/channel/latency-mode (issue 10 item 2) against a real command API, PostgreSQL event store and NATS:
 * owner only, validated with a clear 400, idempotent when the mode does not change.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LATENCY_MODE_PATH } from '@eventcast/contracts';
import { streams } from '@eventcast/events';
import { bearer, register, startHarness, type Harness } from '../test-support/harness.js';

describe('channel latency mode', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  const latencyEvents = async (accountId: string) =>
    (await h.allEvents()).filter((e) => e.streamName === streams.account(accountId) && e.type === 'ChannelLatencyModeChanged');

  it('records ChannelLatencyModeChanged for the owner, and nothing when the mode is already set', async () => {
    const { token, id } = await register(h, 'lena');
    const first = await h.http('PUT', LATENCY_MODE_PATH, { latencyMode: 'smooth' }, bearer(token));
    assert.deepEqual([first.status, first.body], [200, { latencyMode: 'smooth' }]);
    const again = await h.http('PUT', LATENCY_MODE_PATH, { latencyMode: 'smooth' }, bearer(token));
    assert.deepEqual([again.status, again.body], [200, { latencyMode: 'smooth' }]);
    const back = await h.http('PUT', LATENCY_MODE_PATH, { latencyMode: 'low' }, bearer(token));
    assert.deepEqual([back.status, back.body], [200, { latencyMode: 'low' }]);
    const events = await latencyEvents(id);
    assert.deepEqual(
      events.map((e) => e.data),
      [
        { channelId: id, username: 'lena', latencyMode: 'smooth' },
        { channelId: id, username: 'lena', latencyMode: 'low' },
      ],
    );
    assert.ok(events.every((e) => e.metadata.actorId === id), 'the owner is the actor');
  });

  it('records nothing when the default mode is chosen on a fresh channel', async () => {
    const { token, id } = await register(h, 'milo');
    const r = await h.http('PUT', LATENCY_MODE_PATH, { latencyMode: 'low' }, bearer(token));
    assert.deepEqual([r.status, r.body], [200, { latencyMode: 'low' }]);
    assert.deepEqual(await latencyEvents(id), []);
  });

  it('refuses an unknown mode, a missing one and extra fields with 400 and a reason, and anonymous callers with 401', async () => {
    const { token, id } = await register(h, 'nora');
    for (const body of [{ latencyMode: 'ultra' }, {}, { latencyMode: 3 }, { latencyMode: 'low', channelId: id }]) {
      const bad = await h.http<{ message: string | string[] }>('PUT', LATENCY_MODE_PATH, body, bearer(token));
      assert.equal(bad.status, 400, JSON.stringify(body));
      const message = ([] as string[]).concat(bad.body.message).join(' ');
      if ('channelId' in body) assert.match(message, /property channelId should not exist/);
      else assert.match(message, /latencyMode must be one of low, smooth/);
    }
    const garbage = await h.http('PUT', LATENCY_MODE_PATH, '{"latencyMode":', { ...bearer(token), 'content-type': 'application/json' });
    assert.equal(garbage.status, 400);
    assert.equal((await h.http('PUT', LATENCY_MODE_PATH, { latencyMode: 'smooth' })).status, 401);
    assert.equal((await h.http('PUT', LATENCY_MODE_PATH, { latencyMode: 'smooth' }, bearer('not-a-token'))).status, 401);
    assert.deepEqual(await latencyEvents(id), [], 'nothing was recorded');
  });

  it('only changes the caller’s own channel', async () => {
    const owner = await register(h, 'olga');
    const other = await register(h, 'pavel');
    assert.equal((await h.http('PUT', LATENCY_MODE_PATH, { latencyMode: 'smooth' }, bearer(other.token))).status, 200);
    assert.deepEqual(await latencyEvents(owner.id), []);
    assert.equal((await latencyEvents(other.id)).length, 1);
  });
});
