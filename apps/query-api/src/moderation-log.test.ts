/**
 * The moderation log says what a settings change changed, old → new (issue 9 item 9: "Settings — defaults" told a
 * moderator nothing), and those rows are the same however the log is cut into batches: one event per transaction (the
 * live projector), mixed batches, one batch, and a query-api rebuilt by catch-up from the log alone.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { settingsChangedDetailsSchema } from '@eventcast/contracts';
import { defaultChatSettings, streams, type ChatSettings, type RecordedEvent } from '@eventcast/events';
import { createTestDatabase, type TestDatabase } from '@eventcast/platform';
import { createReadModelDb, ModerationLogProjection } from '@eventcast/read-models';
import { createTestBus, rebuiltThreeWays, type TestBus } from './testing/harness.js';
import { liveReadModel, MemoryEventLog } from '@eventcast/read-models/testing';

class HeadedLog extends MemoryEventLog {
  headPosition(): Promise<bigint> {
    return Promise.resolve(this.events.at(-1)?.globalPosition ?? 0n);
  }
}

const alice = { id: randomUUID(), username: 'mlog_alice' };
const carol = { id: randomUUID(), username: 'mlog_carol' };
const bob = { id: randomUUID(), username: 'mlog_bob' };

/** Two channels whose settings changes interleave, with other moderation events between them. */
function scenario(log: MemoryEventLog): void {
  const settings = (owner: typeof alice, by: typeof alice, change: Partial<ChatSettings>, base: Partial<ChatSettings> = {}): RecordedEvent =>
    log.append(streams.chat(owner.id), 'ChatSettingsChanged', {
      channelId: owner.id,
      username: owner.username,
      moderatorId: by.id,
      moderatorName: by.username,
      settings: { ...defaultChatSettings, ...base, ...change },
    });
  for (const u of [alice, carol, bob]) log.append(streams.account(u.id), 'AccountRegistered', { accountId: u.id, username: u.username, passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' });
  settings(alice, alice, { rateLimitMessages: 10 }); // 5 → 10
  settings(bob, bob, { slowModeSeconds: 30 });
  log.append(streams.chat(alice.id), 'ChatModeratorAdded', { channelId: alice.id, username: alice.username, moderatorId: alice.id, moderatorName: alice.username, userId: carol.id, userName: carol.username });
  settings(alice, carol, { slowModeSeconds: 5, followersOnly: true }, { rateLimitMessages: 10 });
  settings(alice, carol, { rateLimitWindowSeconds: 30, followersOnly: false }, { rateLimitMessages: 10, slowModeSeconds: 5 });
  settings(bob, bob, { enabled: false }, { slowModeSeconds: 30 });
  settings(alice, alice, {}); // back to the defaults
}

async function dumpLog(url: string) {
  const { db, root } = createReadModelDb(url, 1);
  try {
    return await db.selectFrom('moderation_log').selectAll().orderBy('global_position').execute();
  } finally {
    await root.destroy();
  }
}

void describe('moderation log: settings changes old → new', () => {
  const log = new HeadedLog();
  scenario(log);
  const dbs: TestDatabase[] = [];
  const newDb = async () => {
    const d = await createTestDatabase('qa_test');
    dbs.push(d);
    return d;
  };
  let bus: TestBus;
  before(async () => {
    bus = await createTestBus();
  });
  after(async () => {
    await bus?.close();
    for (const d of dbs) await d.drop().catch(() => undefined);
  });

  void test('each settings_changed entry lists what changed against the settings in force before it', async () => {
    const live = await liveReadModel(dbs, log.events, 1);
    await live.root.destroy();
    const rows = (await dumpLog(live.tdb.url)).filter((r) => r.action === 'settings_changed');
    const changes = rows.map((r) => [r.channel_id === alice.id ? 'alice' : 'bob', settingsChangedDetailsSchema.parse(r.details).changes]);
    assert.deepEqual(changes, [
      ['alice', [{ setting: 'rateLimitMessages', from: 5, to: 10 }]],
      ['bob', [{ setting: 'slowModeSeconds', from: 0, to: 30 }]],
      ['alice', [{ setting: 'slowModeSeconds', from: 0, to: 5 }, { setting: 'followersOnly', from: false, to: true }]],
      ['alice', [{ setting: 'followersOnly', from: true, to: false }, { setting: 'rateLimitWindowSeconds', from: 10, to: 30 }]],
      ['bob', [{ setting: 'enabled', from: true, to: false }]],
      ['alice', [{ setting: 'slowModeSeconds', from: 5, to: 0 }, { setting: 'rateLimitMessages', from: 10, to: 5 }, { setting: 'rateLimitWindowSeconds', from: 30, to: 10 }]],
    ]);
    assert.deepEqual(settingsChangedDetailsSchema.parse(rows[0]!.details).settings, { ...defaultChatSettings, rateLimitMessages: 10 });
  });

  void test('the same rows live, in batches of 2 and 4, alone per event, in one batch and rebuilt by catch-up', async () => {
    const live = await liveReadModel(dbs, log.events, 1);
    await live.root.destroy();
    const expected = await dumpLog(live.tdb.url);
    for (const size of [2, 4]) {
      const batched = await liveReadModel(dbs, log.events, size);
      await batched.root.destroy();
      assert.deepEqual(await dumpLog(batched.tdb.url), expected, `batches of ${size}`);
    }
    const [one, all, rebuilt] = await rebuiltThreeWays({ projection: new ModerationLogProjection(), log, bus, catchUpBatchSize: 3 }, newDb, dumpLog);
    assert.deepEqual(one, expected);
    assert.deepEqual(all, expected);
    assert.deepEqual(rebuilt, expected);
  });
});
