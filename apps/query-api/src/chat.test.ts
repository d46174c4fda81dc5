/**
 * Chat read models and HTTP queries against real PostgreSQL (event store + read models) and JetStream: a realistic
 * chat sequence appended to a PostgresEventStore and published, then every endpoint of docs/chat.md (query-api),
 * paging, hidden deleted/cleared/delayed messages, authorization, and live-vs-rebuild equality.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JwtService } from '@nestjs/jwt';
import { PostgresEventStore } from '@eventcast/event-store';
import { streams, type NewEvent } from '@eventcast/events';
import { createTestDatabase, loadConfig, type TestDatabase } from '@eventcast/platform';
import { bootstrapQueryApi, type RunningQueryApi } from './bootstrap.js';
import { chatRoom, ids, PNG_1X1, registered, user, dumpReadModels } from '@eventcast/read-models/testing';
import { createTestBus, testConfig, testLogger, waitFor, type TestBus } from './testing/harness.js';

interface Page {
  messages: { id: string; senderName: string; text: string; globalPosition: string; senderRole: string; visibleAt: string }[];
  nextBefore: string | null;
  position: string;
}
interface LogPage {
  entries: { id: string; action: string; moderatorName: string; targetName: string | null; reason: string | null; details: Record<string, unknown>; globalPosition: string }[];
  nextBefore: string | null;
}

void describe('chat queries', () => {
  const alice = user('chat_alice'); // owner
  const carol = user('chat_carol'); // moderator
  const bob = user('chat_bob'); // viewer
  const dave = user('chat_dave'); // banned, then unbanned
  const erin = user('chat_erin'); // timed out
  const room = chatRoom(alice);
  const jwt = new JwtService({ secret: loadConfig({}).JWT_SECRET });
  const token = (u: { id: string; username: string }) => jwt.sign({ sub: u.id, username: u.username });
  let storeDb: TestDatabase;
  let liveDb: TestDatabase;
  let store: PostgresEventStore;
  let bus: TestBus;
  let api: RunningQueryApi;
  let base: string;
  const kept = { spamId: '' };

  const get = async (path: string, auth?: string) => {
    const res = await fetch(`${base}${path}`, auth ? { headers: { Authorization: `Bearer ${auth}` } } : {});
    const body: unknown = await res.json();
    return { status: res.status, body };
  };
  /** Appends to the store and publishes the recorded events to JetStream; waits until the live app applied them. */
  async function append(stream: string, ...events: NewEvent[]): Promise<bigint> {
    const from = await store.headPosition();
    const { lastGlobalPosition } = await store.append(stream, events, 'any');
    for (const e of await store.readAll({ after: from })) await bus.publish(e);
    await waitFor(async () => (await api.runner.position()) >= lastGlobalPosition, 10_000, `checkpoint ${lastGlobalPosition}`);
    return lastGlobalPosition;
  }
  const chat = (...events: NewEvent[]) => append(streams.chat(alice.id), ...events);

  void before(async () => {
    storeDb = await createTestDatabase('qa_store');
    store = new PostgresEventStore({ connectionString: storeDb.url });
    await store.migrate();
    bus = await createTestBus();
    liveDb = await createTestDatabase('qa_test');
    api = await bootstrapQueryApi(testConfig(liveDb, bus, store), testLogger());
    base = `http://127.0.0.1:${api.port}`;
    for (const u of [alice, carol, bob, dave, erin]) await append(streams.account(u.id), registered(u));
  });
  void after(async () => {
    await api.close();
    await store.close();
    await bus.close();
    await liveDb.drop();
    await storeDb.drop();
  });

  void test('a realistic sequence: messages, delete, clear, bans, timeout, moderators, settings, terms, emotes, follows', async () => {
    await chat(
      room.settings(alice, { slowModeSeconds: 3, followersOnly: true }),
      room.moderatorAdded(carol),
      room.moderatorAdded(erin),
      room.moderatorRemoved(erin),
      room.blockedTerms(carol, ['badword', 'worse'], 'mask'),
      room.emoteAdded('PogChamp'),
      room.emoteAdded('Kappa'),
      room.emoteRemoved('Kappa'),
    );
    const early = [room.message(bob, 'first!'), room.message(dave, 'spam spam'), room.message(carol, 'welcome', { role: 'moderator' })];
    await chat(...early);
    const spam = ids(early[1]!);
    kept.spamId = spam.messageId;
    await chat(room.deleted(carol, spam.messageId, spam.senderId, 'spam'), room.banned(carol, dave, 'spamming'), room.unbanned(alice, dave));
    let page = (await get('/channels/chat_alice/chat/messages')).body as Page;
    assert.deepEqual(page.messages.map((m) => m.text), ['welcome', 'first!']);
    assert.equal(page.messages[0]!.senderRole, 'moderator');

    const clearedAt = await chat(room.cleared(alice), room.timedOut(carol, erin, 600, 'calm down'), room.refused(bob));
    page = (await get('/channels/chat_alice/chat/messages')).body as Page;
    // `position`: the chat read model's checkpoint (a client that subscribed later reads again until it is reached).
    assert.deepEqual(page, { messages: [], nextBefore: null, position: clearedAt.toString() }, 'cleared messages are hidden');

    const later = Array.from({ length: 7 }, (_, i) => room.message(i % 2 ? bob : alice, `after clear ${i}`, { maskedTerms: i === 3 ? 1 : 0 }));
    await chat(...later);
    await append(streams.follows(alice.id), room.followed(bob), room.followed(erin), room.unfollowed(erin));
    const gone = ids(later[2]!);
    await chat(room.deleted(alice, gone.messageId, gone.senderId));
    page = (await get('/channels/chat_alice/chat/messages')).body as Page;
    assert.deepEqual(page.messages.map((m) => m.text), ['after clear 6', 'after clear 5', 'after clear 4', 'after clear 3', 'after clear 1', 'after clear 0']);
    assert.equal(page.nextBefore, null);
  });

  void test('history pages: newest first, no duplicates or gaps, nextBefore null at the end', async () => {
    const all = ((await get('/channels/chat_alice/chat/messages?limit=100')).body as Page).messages;
    const seen: Page['messages'] = [];
    let before: string | null = null;
    for (let i = 0; i < 10; i++) {
      const res = await get(`/channels/chat_alice/chat/messages?limit=4${before ? `&before=${before}` : ''}`);
      assert.equal(res.status, 200);
      const p = res.body as Page;
      seen.push(...p.messages);
      before = p.nextBefore;
      if (before === null) break;
      assert.equal(before, p.messages[p.messages.length - 1]!.globalPosition);
    }
    assert.deepEqual(seen, all);
    assert.equal(new Set(seen.map((m) => m.id)).size, 6);
    const positions = seen.map((m) => BigInt(m.globalPosition));
    assert.ok(positions.every((p, i) => i === 0 || p < positions[i - 1]!), 'strictly descending');
    const exact = (await get('/channels/chat_alice/chat/messages?limit=6')).body as Page;
    assert.equal(exact.nextBefore, null, 'no next page when exactly `limit` remain');
  });

  void test('a delayed message is hidden until its visibleAt', async () => {
    const delayed = room.message(bob, 'held for a moment', { visibleAt: new Date(Date.now() + 1500) });
    await chat(delayed);
    let top = ((await get('/channels/chat_alice/chat/messages?limit=1')).body as Page).messages[0]!;
    assert.equal(top.text, 'after clear 6');
    top = await waitFor(
      async () => {
        const m = ((await get('/channels/chat_alice/chat/messages?limit=1')).body as Page).messages[0];
        return m?.text === 'held for a moment' ? m : undefined;
      },
      5_000,
      'delayed message',
    );
    assert.ok(Date.parse(top.visibleAt) <= Date.now());
  });

  void test('settings, moderators, roles, emotes and followers', async () => {
    assert.deepEqual(await get('/channels/chat_alice/chat/settings'), {
      status: 200,
      body: {
        settings: { enabled: true, slowModeSeconds: 3, followersOnly: true, messageDelaySeconds: 0, emoteOnly: false, rateLimitMessages: 5, rateLimitWindowSeconds: 10 },
        moderators: [{ id: carol.id, username: 'chat_carol' }],
      },
    });
    const defaults = (await get('/channels/chat_bob/chat/settings')).body as { settings: { enabled: boolean }; moderators: unknown[] };
    assert.deepEqual([defaults.settings.enabled, defaults.moderators], [true, []]);

    const role = async (u: string) => (await get(`/channels/chat_alice/chat/roles/${u}`)).body as { role: string; banned: boolean; timedOutUntil: string | null; follows: boolean };
    assert.deepEqual(await role('chat_alice'), { role: 'owner', banned: false, timedOutUntil: null, follows: false });
    assert.deepEqual(await role('chat_carol'), { role: 'moderator', banned: false, timedOutUntil: null, follows: false });
    assert.deepEqual(await role('CHAT_BOB'), { role: 'viewer', banned: false, timedOutUntil: null, follows: true });
    assert.deepEqual(await role('chat_dave'), { role: 'viewer', banned: false, timedOutUntil: null, follows: false });
    const erinRole = await role('chat_erin');
    assert.deepEqual([erinRole.role, erinRole.banned, erinRole.follows], ['viewer', false, false]);
    assert.ok(erinRole.timedOutUntil && Date.parse(erinRole.timedOutUntil) > Date.now() + 500_000);
    await chat(room.banned(alice, dave, ''));
    assert.equal((await role('chat_dave')).banned, true);
    assert.equal((await get('/channels/chat_alice/chat/roles/nobody_x')).status, 404);
    assert.equal((await get('/channels/chat_alice/chat/roles/x')).status, 400);

    const emotes = await get('/channels/chat_alice/emotes');
    assert.deepEqual(emotes, { status: 200, body: { emotes: [{ code: 'PogChamp', url: `${base}/channels/chat_alice/emotes/PogChamp` }] } });
    const img = await fetch(`${base}/channels/chat_alice/emotes/PogChamp`);
    assert.equal(img.status, 200);
    assert.equal(img.headers.get('content-type'), 'image/png');
    assert.equal(img.headers.get('cache-control'), 'public, max-age=300');
    assert.deepEqual(Buffer.from(await img.arrayBuffer()), Buffer.from(PNG_1X1, 'base64'));
    assert.equal((await get('/channels/chat_alice/emotes/Kappa')).status, 404, 'removed emote');
    assert.equal((await get('/channels/chat_alice/emotes/pogchamp')).status, 404, 'codes are case-sensitive');
    assert.equal((await get('/channels/chat_alice/emotes/a-b')).status, 400);

    assert.deepEqual(await get('/channels/chat_alice/followers'), { status: 200, body: { count: 1 } });
    assert.deepEqual(await get('/channels/chat_bob/followers'), { status: 200, body: { count: 0 } });
  });

  void test('blocked terms and moderation log: owner and moderators only', async () => {
    const terms = { status: 200, body: { terms: ['badword', 'worse'], action: 'mask' } };
    assert.deepEqual(await get('/channels/chat_alice/chat/blocked-terms', token(alice)), terms);
    assert.deepEqual(await get('/channels/chat_alice/chat/blocked-terms', token(carol)), terms);
    assert.equal((await get('/channels/chat_alice/chat/blocked-terms', token(bob))).status, 403);
    assert.equal((await get('/channels/chat_alice/chat/blocked-terms', token(erin))).status, 403, 'a removed moderator');
    assert.equal((await get('/channels/chat_alice/chat/blocked-terms')).status, 401);
    assert.equal((await get('/channels/chat_alice/chat/blocked-terms', 'not.a.jwt')).status, 401);
    const forged = new JwtService({ secret: 'another-secret-of-enough-length' }).sign({ sub: alice.id, username: 'chat_alice' });
    assert.equal((await get('/channels/chat_alice/chat/blocked-terms', forged)).status, 401);
    assert.deepEqual(await get('/channels/chat_bob/chat/blocked-terms', token(bob)), { status: 200, body: { terms: [], action: 'mask' } });
    assert.equal((await get('/channels/nobody_x/chat/blocked-terms', token(bob))).status, 404);

    assert.equal((await get('/channels/chat_alice/chat/moderation-log', token(bob))).status, 403);
    assert.equal((await get('/channels/chat_alice/chat/moderation-log')).status, 401);
    const log = (await get('/channels/chat_alice/chat/moderation-log?limit=100', token(carol))).body as LogPage;
    assert.equal(log.nextBefore, null);
    assert.deepEqual(
      log.entries.map((e) => [e.action, e.moderatorName, e.targetName, e.reason]).reverse(),
      [
        ['settings_changed', 'chat_alice', null, null],
        ['moderator_added', 'chat_alice', 'chat_carol', null],
        ['moderator_added', 'chat_alice', 'chat_erin', null],
        ['moderator_removed', 'chat_alice', 'chat_erin', null],
        ['blocked_terms_updated', 'chat_carol', null, null],
        ['emote_added', 'chat_alice', null, null],
        ['emote_added', 'chat_alice', null, null],
        ['emote_removed', 'chat_alice', null, null],
        ['message_deleted', 'chat_carol', 'chat_dave', 'spam'],
        ['user_banned', 'chat_carol', 'chat_dave', 'spamming'],
        ['user_unbanned', 'chat_alice', 'chat_dave', null],
        ['chat_cleared', 'chat_alice', null, null],
        ['user_timed_out', 'chat_carol', 'chat_erin', 'calm down'],
        ['message_refused', 'AutoMod', 'chat_bob', 'blocked_term'],
        ['message_deleted', 'chat_alice', 'chat_alice', null],
        ['user_banned', 'chat_alice', 'chat_dave', null],
      ],
    );
    const byAction = (a: string) => log.entries.find((e) => e.action === a)!.details;
    assert.deepEqual(log.entries.find((e) => e.reason === 'spam')!.details, { messageId: kept.spamId, text: 'spam spam' });
    assert.equal((byAction('user_timed_out') as { durationSeconds: number }).durationSeconds, 600);
    assert.deepEqual(byAction('blocked_terms_updated'), { terms: ['badword', 'worse'], action: 'mask' });
    assert.equal((byAction('settings_changed') as { settings: { slowModeSeconds: number } }).settings.slowModeSeconds, 3);
    assert.deepEqual(byAction('emote_removed'), { code: 'Kappa' });

    const first = (await get('/channels/chat_alice/chat/moderation-log?limit=10', token(alice))).body as LogPage;
    const rest = (await get(`/channels/chat_alice/chat/moderation-log?limit=10&before=${first.nextBefore}`, token(alice))).body as LogPage;
    assert.equal(rest.nextBefore, null);
    assert.deepEqual([...first.entries, ...rest.entries], log.entries);
  });

  void test('validation → 400 with reasons, unknown channel → 404', async () => {
    assert.deepEqual(await get('/channels/chat_alice/chat/messages?limit=0&before=abc'), {
      status: 400,
      body: { statusCode: 400, error: 'Bad Request', message: 'before must be a positive integer (a globalPosition); limit must be an integer from 1 to 100' },
    });
    assert.equal((await get('/channels/chat_alice/chat/messages?limit=101')).status, 400);
    assert.equal((await get('/channels/chat_alice/chat/messages?before=-1')).status, 400);
    assert.equal((await get('/channels/chat_alice/chat/messages?before=99999999999999999999')).status, 400);
    assert.equal((await get('/channels/c!/chat/messages')).status, 400);
    for (const path of ['chat/messages', 'chat/settings', 'chat/roles/chat_bob', 'emotes', 'emotes/PogChamp', 'followers']) {
      assert.deepEqual(await get(`/channels/nobody_x/${path}`), { status: 404, body: { statusCode: 404, error: 'Not Found', message: 'channel "nobody_x" not found' } }, path);
    }
    const docs = (await get('/docs-json')).body as { paths: Record<string, unknown> };
    for (const p of ['/channels/{username}/chat/messages', '/channels/{username}/chat/settings', '/channels/{username}/chat/blocked-terms', '/channels/{username}/chat/moderation-log', '/channels/{username}/chat/roles/{user}', '/channels/{username}/emotes', '/channels/{username}/emotes/{code}', '/channels/{username}/followers']) {
      assert.ok(p in docs.paths, p);
    }
    const res = await fetch(`${base}/channels/chat_alice/chat/messages`, { headers: { Origin: 'http://example.test' } });
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  void test('the live chat read models equal a rebuild from the event store alone', async () => {
    const head = await store.headPosition();
    const rebuildDb = await createTestDatabase('qa_test');
    const { eventStore: _omit, ...config } = testConfig(rebuildDb, bus, store);
    const rebuilt = await bootstrapQueryApi({ ...config, eventStoreUrl: storeDb.url, catchUpBatchSize: 7 }, testLogger());
    try {
      assert.equal(await rebuilt.runner.position(), head);
      const live = await dumpReadModels(liveDb.url);
      assert.deepEqual([live.chatMessages.length, live.moderationLog.length, live.chatRoles.length, live.emotes.length, live.follows.length, live.chatRooms.length], [11, 16, 3, 1, 1, 1]);
      assert.equal(live.chatMessages.filter((m) => m.deleted_at !== null).length, 4, 'deleted and cleared messages are marked');
      assert.deepEqual(await dumpReadModels(rebuildDb.url), live);
    } finally {
      await rebuilt.close();
      await rebuildDb.drop();
    }
  });
});
