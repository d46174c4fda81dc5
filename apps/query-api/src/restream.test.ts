/**
 * The restream read model (issue 10 item 7) against real PostgreSQL and NATS JetStream: targets added, switched,
 * removed and their reported states, as the owner reads them at `GET /me/restream-targets`; no key material in the
 * read model; other accounts and anonymous callers see nothing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { JwtService } from '@nestjs/jwt';
import type { RestreamTargetList } from '@eventcast/contracts';
import { streams, type RecordedEvent } from '@eventcast/events';
import { createTestDatabase, loadConfig, type TestDatabase } from '@eventcast/platform';
import type { RunningQueryApi } from './bootstrap.js';
import { dumpReadModels, register, MemoryEventLog } from '@eventcast/read-models/testing';
import { RestreamTargetsProjection } from '@eventcast/read-models';
import { createTestBus, rebuiltThreeWays, startApp, waitFor, type TestBus } from './testing/harness.js';

void describe('restream read model', () => {
  const log = new MemoryEventLog();
  const jwt = new JwtService({ secret: loadConfig({}).JWT_SECRET });
  let bus: TestBus;
  let db: TestDatabase;
  let api: RunningQueryApi;
  let base: string;

  void before(async () => {
    bus = await createTestBus();
    ({ db, api, base } = await startApp(bus, log));
  });
  void after(async () => {
    await api.close();
    await db.drop();
    await bus.close();
  });

  const publish = async (...events: RecordedEvent[]) => {
    for (const e of events) await bus.publish(e);
    const last = events.at(-1)!.globalPosition;
    await waitFor(async () => (await api.runner.position()) >= last, 10_000, `checkpoint ${last}`);
  };
  const list = async (who?: { id: string; username: string }) => {
    const res = await fetch(`${base}/me/restream-targets`, who ? { headers: { Authorization: `Bearer ${jwt.sign({ sub: who.id, username: who.username })}` } } : {});
    return { status: res.status, body: (await res.json()) as RestreamTargetList };
  };

  void test('added, switched, state reported, removed — as the owner sees it; never the key', async () => {
    const { channelId, event: registered } = register(log, 'rs_alice');
    const owner = { id: channelId, username: 'rs_alice' };
    const s = streams.restream(channelId);
    const a = randomUUID();
    const b = randomUUID();
    const broadcastId = randomUUID();
    const cipher = 'c2VhbGVk.dGFn.Y2lwaGVydGV4dC1vZi10aGUta2V5';
    await publish(
      registered,
      log.append(s, 'RestreamTargetAdded', { channelId, targetId: a, name: 'YouTube', url: 'rtmp://a.rtmp.youtube.com/live2', keyCiphertext: cipher }),
      log.append(s, 'RestreamTargetAdded', { channelId, targetId: b, name: 'Twitch', url: 'rtmps://live.twitch.tv/app', keyCiphertext: cipher }),
      log.append(s, 'RestreamTargetDisabled', { channelId, targetId: b }),
      log.append(s, 'RestreamTargetStateChanged', { channelId, targetId: a, broadcastId, state: 'failed', reason: 'Connection refused', at: '2026-12-07T04:00:00.000Z' }),
    );
    const first = await list(owner);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.targets, [
      { id: a, name: 'YouTube', url: 'rtmp://a.rtmp.youtube.com/live2', enabled: true, live: { broadcastId, state: 'failed', reason: 'Connection refused', at: '2026-12-07T04:00:00.000Z' } },
      { id: b, name: 'Twitch', url: 'rtmps://live.twitch.tv/app', enabled: false, live: null },
    ]);
    await publish(
      log.append(s, 'RestreamTargetStateChanged', { channelId, targetId: a, broadcastId, state: 'live', reason: null, at: '2026-12-07T04:00:05.000Z' }),
      log.append(s, 'RestreamTargetEnabled', { channelId, targetId: b }),
      log.append(s, 'RestreamTargetRemoved', { channelId, targetId: a }),
    );
    const second = await list(owner);
    assert.deepEqual(second.body.targets.map((t) => [t.id, t.enabled]), [[b, true]]);

    assert.equal((await list()).status, 401);
    assert.deepEqual((await list({ id: randomUUID(), username: 'rs_bob' })).body, { targets: [] });
    assert.ok(!JSON.stringify(await dumpReadModels(db.url)).includes(cipher), 'no key ciphertext in the read models');
  });

  void test('a rebuild (one event per transaction, one batch, a fresh catch-up) equals the live read model', async () => {
    const rows = async (url: string) => (await dumpReadModels(url)).restreamTargets;
    const live = await rows(db.url);
    assert.ok(live.length > 0);
    const dbs: TestDatabase[] = [];
    try {
      const rebuilt = await rebuiltThreeWays({ projection: new RestreamTargetsProjection(), log, bus, catchUpBatchSize: 2 }, async () => {
        const d = await createTestDatabase('qa_test');
        dbs.push(d);
        return d;
      }, rows);
      for (const r of rebuilt) assert.deepEqual(r, live);
    } finally {
      for (const d of dbs) await d.drop();
    }
  });
});
