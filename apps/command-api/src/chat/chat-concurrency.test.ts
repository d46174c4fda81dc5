import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { streams } from '@eventcast/events';
import { bootstrapCommandApi, type CommandApi } from '../bootstrap.js';
import { bearer, startHarness, type Harness } from '../test-support/harness.js';
import { as, natsSend, room, type TestRoom } from './chat-test-support.js';

/** Asserts that in the stored chat stream no ChatMessageSent by `userId` follows a ChatUserBanned of `userId`. */
async function assertNoMessageAfterBan(h: Harness, channelId: string, userId: string): Promise<{ bans: number; sentBefore: number }> {
  const events = (await h.allEvents()).filter((e) => e.streamName === streams.chat(channelId));
  let bannedAt = -1;
  let sentBefore = 0;
  let bans = 0;
  for (const [i, e] of events.entries()) {
    const d = e.data as { userId?: string; senderId?: string };
    if (e.type === 'ChatUserBanned' && d.userId === userId) {
      bannedAt = i;
      bans++;
    }
    if (e.type === 'ChatUserUnbanned' && d.userId === userId) bannedAt = -1;
    if (e.type === 'ChatMessageSent' && d.senderId === userId) {
      assert.equal(bannedAt, -1, `message at ${i} after the ban at ${bannedAt}`);
      sentBefore++;
    }
  }
  return { bans, sentBefore };
}

describe('chat: ban vs send races', () => {
  let h: Harness;
  let second: CommandApi;
  let r: TestRoom;
  before(async () => {
    h = await startHarness();
    // A second command-api instance on the same store: its cache is independent of the first one's.
    second = await bootstrapCommandApi(h.config, { logger: pino({ level: 'silent' }), publisher: false, shutdownHooks: false });
    r = await room(h, 'race');
    await as(h, r.owner, 'PUT', r.owner, '/chat/settings', { rateLimitMessages: 100, rateLimitWindowSeconds: 1 });
  });
  after(async () => {
    await second.close();
    await h.stop();
  });

  it('never records a message of a user after their ban (same instance, 20 rounds)', async () => {
    for (let round = 0; round < 20; round++) {
      const [ban, sent] = await Promise.all([
        as(h, r.mod, 'POST', r.owner, '/chat/bans', { username: r.viewer.name }),
        natsSend(h, r.owner, r.viewer, `round ${round}`),
      ]);
      assert.equal(ban.status, 201);
      assert.ok(sent['ok'] === true || sent['code'] === 'banned', JSON.stringify(sent));
      await assertNoMessageAfterBan(h, r.owner.id, r.viewer.id);
      assert.equal((await as(h, r.mod, 'DELETE', r.owner, `/chat/bans/${r.viewer.name}`)).status, 200);
    }
  });

  it('never records a message of a user after their ban across two instances with warm caches (20 rounds)', async () => {
    const other = `http://127.0.0.1:${second.port}`;
    const sendViaSecond = (text: string) =>
      fetch(`${other}/channels/${r.owner.name}/chat/messages`, { method: 'POST', headers: { ...bearer(r.other.token), 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
    assert.equal((await sendViaSecond('warm up')).status, 201);
    let refused = 0;
    for (let round = 0; round < 20; round++) {
      const [ban, sent] = await Promise.all([as(h, r.mod, 'POST', r.owner, '/chat/bans', { username: r.other.name }), sendViaSecond(`round ${round}`)]);
      assert.equal(ban.status, 201);
      assert.ok([201, 403].includes(sent.status), `send ${sent.status}`);
      if (sent.status === 403) refused++;
      // The second instance's cache now lags behind the ban: a later send through it must still be refused.
      assert.equal((await sendViaSecond('after ban')).status, 403);
      await assertNoMessageAfterBan(h, r.owner.id, r.other.id);
      assert.equal((await as(h, r.mod, 'DELETE', r.owner, `/chat/bans/${r.other.name}`)).status, 200);
    }
    const { bans } = await assertNoMessageAfterBan(h, r.owner.id, r.other.id);
    assert.equal(bans, 20);
    assert.ok(refused >= 0);
  });

  it('keeps every concurrent message of many senders, in consecutive revisions', async () => {
    const senders = [r.owner, r.mod, r.viewer, r.other];
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => natsSend(h, r.owner, senders[i % 4]!, `m${i}`)));
    assert.ok(replies.every((x) => x['ok'] === true), JSON.stringify(replies.find((x) => x['ok'] !== true)));
    const events = (await h.allEvents()).filter((e) => e.streamName === streams.chat(r.owner.id));
    assert.deepEqual(events.map((e) => e.revision), events.map((_, i) => String(i)));
  });
});
