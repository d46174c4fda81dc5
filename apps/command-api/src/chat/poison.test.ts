/**
 * Issue 9, items 1, 2 and 6 (text half), on the real command API (fresh PostgreSQL database, private NATS): a poison
 * message takes nobody down, every free-text field refuses NUL / lone surrogates / bidi overrides with 400 and a
 * reason, blocked terms take any printable ASCII character, and chat length counts graphemes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { streams } from '@eventcast/events';
import { bearer, startHarness, type Harness, type HttpReply } from '../test-support/harness.js';
import { as, httpSend, natsSend, room, user, type TestUser } from './chat-test-support.js';

/** Values that PostgreSQL's jsonb refuses (NUL, lone surrogates) or that could reverse someone else's words. */
const POISONS = ['x\u0000', 'lone \ud800 lead', '\udc00 trail', 'abc \u202e dcba', 'isolate \u2066x\u2069'];

describe('poison messages (issue 9)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });
  const chatEvents = async (channelId: string) => (await h.allEvents()).filter((e) => e.streamName === streams.chat(channelId));

  it('a flood of NUL and lone surrogates: ten honest chatters and the moderators lose nothing; the flooder gets 400s, then rate_limited', async () => {
    const r = await room(h, 'flood');
    const honest = await Promise.all(Array.from({ length: 10 }, (_, i) => user(h, `flood_honest_${i}`)));
    const [flooder, target] = await Promise.all([user(h, 'flood_evil'), user(h, 'flood_target')]);
    // 10 messages per 60 s per viewer: the honest chatters send exactly their budget, the flooder far more.
    assert.equal((await as(h, r.owner, 'PUT', r.owner, '/chat/settings', { rateLimitMessages: 10, rateLimitWindowSeconds: 60 })).status, 200);
    const seed = await httpSend(h, r.owner, r.owner, 'seed message to delete');
    assert.equal(seed.status, 201);

    const flood = async (): Promise<{ http: HttpReply[]; nats: Record<string, unknown>[] }> => {
      const http: HttpReply[] = [];
      const nats: Record<string, unknown>[] = [];
      for (let burst = 0; burst < 6; burst++) {
        const poisons = Array.from({ length: 10 }, (_, i) => POISONS[(burst + i) % 2]!); // NUL and lone surrogates
        const [a, b] = await Promise.all([
          Promise.all(poisons.slice(0, 5).map((p) => httpSend(h, r.owner, flooder, p))),
          Promise.all(poisons.slice(5).map((p) => natsSend(h, r.owner, flooder, p))),
        ]);
        http.push(...a);
        nats.push(...b);
      }
      return { http, nats };
    };
    const chat = () =>
      Promise.all(
        honest.map(async (u, i) => {
          const replies: HttpReply[] = [];
          for (let m = 0; m < 10; m++) {
            replies.push(m % 2 ? await httpSend(h, r.owner, u, `honest ${i}.${m} 😀`) : await natsSendAsHttp(h, r.owner, u, `honest ${i}.${m}`));
          }
          return replies;
        }),
      );
    const moderate = async (): Promise<HttpReply[]> => {
      const replies: HttpReply[] = [];
      for (let round = 0; round < 20; round++) {
        const actor = round % 2 ? r.mod : r.owner;
        replies.push(await as(h, actor, 'POST', r.owner, '/chat/bans', { username: target.name, reason: `round ${round}` }));
        replies.push(await as(h, actor, 'DELETE', r.owner, `/chat/bans/${target.name}`));
        replies.push(await as(h, actor, 'POST', r.owner, '/chat/timeouts', { username: target.name, durationSeconds: 30, reason: 'cool down' }));
      }
      replies.push(await as(h, r.mod, 'DELETE', r.owner, `/chat/messages/${String(seed.body['messageId'])}`, { reason: 'cleanup' }));
      return replies;
    };

    const [flooded, chatted, moderated] = await Promise.all([flood(), chat(), moderate()]);

    const honestFailures = chatted.flat().filter((x) => x.status !== 201);
    assert.deepEqual(honestFailures.map((x) => [x.status, x.body]), [], 'every honest message succeeds');
    const modFailures = moderated.filter((x) => x.status !== 200 && x.status !== 201);
    assert.deepEqual(modFailures.map((x) => [x.status, x.body]), [], 'every moderation action succeeds');
    assert.equal(moderated.length, 61);

    // The flooder: 400 invalid_request with the reason for its first 10 attempts (the rate limit), then rate_limited.
    const codes = [...flooded.http.map((x) => ({ status: x.status, code: x.body['code'], message: String(x.body['message']) })), ...flooded.nats.map((x) => ({ status: x['code'] === 'rate_limited' ? 429 : 400, code: x['code'], message: String(x['message']) }))];
    for (const c of codes) {
      assert.ok(c.code === 'invalid_request' || c.code === 'rate_limited', JSON.stringify(c));
      if (c.code === 'invalid_request') {
        assert.equal(c.status, 400);
        assert.match(c.message, /^text contains U\+(0000|D800)/);
      } else assert.equal(c.status, 429);
    }
    assert.equal(codes.filter((c) => c.code === 'invalid_request').length, 10, 'every refused attempt counts toward the rate limit');
    assert.equal(codes.filter((c) => c.code === 'rate_limited').length, 50);
    assert.ok(flooded.http.every((x) => x.status < 500) && flooded.nats.every((x) => x['code'] !== 'internal_error'));

    const events = await chatEvents(r.owner.id);
    const refused = events.filter((e) => e.type === 'ChatMessageRefused');
    assert.equal(refused.length, 10);
    for (const e of refused) assert.deepEqual(Object.keys(e.data as object).sort(), ['channelId', 'reason', 'refusedAt', 'senderId', 'senderName', 'username']);
    const sentTexts = events.filter((e) => e.type === 'ChatMessageSent').map((e) => (e.data as { text: string }).text);
    assert.equal(sentTexts.filter((t) => t.startsWith('honest ')).length, 100);
    assert.ok(!JSON.stringify(events).includes('\\u0000'), 'no offending text in any event');
  });

  it('every free-text HTTP field answers 400 with a reason for NUL, a lone surrogate and a bidi override', async () => {
    const r = await room(h, 'fields');
    const owner = bearer(r.owner.token);
    const someMessage = randomUUID();
    const cases: [string, (bad: string) => Promise<HttpReply>][] = [
      ['title', (bad) => h.http('PUT', '/me/channel', { title: bad }, owner)],
      ['category', (bad) => h.http('PUT', '/me/channel', { category: bad }, owner)],
      ['a term', (bad) => as(h, r.mod, 'PUT', r.owner, '/chat/blocked-terms', { terms: ['fine', bad], action: 'mask' })],
      ['reason', (bad) => as(h, r.mod, 'POST', r.owner, '/chat/bans', { username: r.viewer.name, reason: bad })],
      ['reason', (bad) => as(h, r.mod, 'POST', r.owner, '/chat/timeouts', { username: r.viewer.name, durationSeconds: 60, reason: bad })],
      ['reason', (bad) => as(h, r.mod, 'DELETE', r.owner, `/chat/messages/${someMessage}`, { reason: bad })],
      ['username', (bad) => as(h, r.mod, 'POST', r.owner, '/chat/bans', { username: bad })],
      ['name', (bad) => h.http('POST', '/me/integrations/tokens', { name: bad, scopes: ['chat:read'] }, owner)],
      ['url', (bad) => h.http('POST', '/me/integrations/webhooks', { url: `https://example.org/${bad}`, eventTypes: ['BroadcastStarted'] }, owner)],
      ['text', (bad) => httpSend(h, r.owner, r.viewer, bad)],
      ['text', (bad) => httpSend(h, r.owner, r.owner, bad)],
    ];
    for (const bad of ['x\u0000y', 'x\ud800y', 'x\u202ey']) {
      for (const [field, call] of cases) {
        const reply = await call(bad);
        const label = `${field} = ${JSON.stringify(bad)}: ${reply.status} ${JSON.stringify(reply.body)}`;
        assert.equal(reply.status, 400, label);
        assert.match(String(reply.body['message']), new RegExp(`${field} contains U\\+(0000|D800|202E)`), label);
      }
      // Fields with a stricter pattern of their own: still 400, never 500.
      for (const reply of [
        await h.http('POST', '/me/integrations/tokens', { name: 'bot', scopes: ['chat:send'], botName: bad }, owner),
        await as(h, r.owner, 'POST', r.owner, '/emotes', { code: bad, contentType: 'image/png', imageBase64: 'iVBORw0KGgo=' }),
        await h.http('POST', '/auth/register', { username: bad, password: 'correct horse battery' }),
      ]) {
        assert.equal(reply.status, 400, JSON.stringify(reply.body));
      }
      const login = await h.http('POST', '/auth/login', { username: bad, password: bad });
      assert.equal(login.status, 401);
    }
    // Nothing was recorded for any of them (the viewer's refused sends only, which carry no text).
    const events = await chatEvents(r.owner.id);
    assert.deepEqual(
      [...new Set(events.map((e) => e.type))].sort(),
      ['ChatMessageRefused', 'ChatModeratorAdded'],
    );
    assert.equal((await h.http<{ title: string }>('PUT', '/me/channel', { title: 'שלום 😀 e\u0301 \u200f ok' }, owner)).status, 200);
  });

  it('blocked terms with every printable ASCII character are accepted and mask; the chat keeps working', async () => {
    const r = await room(h, 'punct');
    const printable = Array.from({ length: 0x7e - 0x20 }, (_, i) => String.fromCharCode(0x21 + i));
    const terms = ['f-word', 'c++', 'a.b', '(x)', '[y]', '\\z', '$1', 'a|b', '^^', '*star*', '?q', '{n}', '/s/', printable.join('').slice(0, 47), printable.join('').slice(47)];
    const put = await as(h, r.owner, 'PUT', r.owner, '/chat/blocked-terms', { terms, action: 'mask' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    for (const c of printable) {
      const one = await as(h, r.mod, 'PUT', r.owner, '/chat/blocked-terms', { terms: [...terms, `w${c}w`], action: 'mask' });
      assert.equal(one.status, 200, `term w${c}w: ${JSON.stringify(one.body)}`);
    }
    const sent = await natsSend(h, r.owner, r.viewer, 'the f-word and c++ and a.b, ok');
    assert.equal(sent['ok'], true, JSON.stringify(sent));
    const events = await chatEvents(r.owner.id);
    const last = events.filter((e) => e.type === 'ChatMessageSent').at(-1);
    assert.equal((last?.data as { text: string }).text, 'the ****** and *** and ***, ok');
    assert.equal((await natsSend(h, r.owner, r.other, 'still fine'))['ok'], true);
  });

  it('counts graphemes: 500 emoji are accepted, 501 refused; combining accents count once', async () => {
    const r = await room(h, 'graph');
    assert.equal((await natsSend(h, r.owner, r.viewer, '😀'.repeat(500)))['ok'], true);
    const tooLong = await httpSend(h, r.owner, r.viewer, '😀'.repeat(501));
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body['code'], 'too_long');
    assert.equal((await natsSend(h, r.owner, r.other, 'e\u0301'.repeat(500)))['ok'], true);
    assert.equal((await natsSend(h, r.owner, r.other, 'e\u0301'.repeat(501)))['code'], 'too_long');
    assert.equal((await httpSend(h, r.owner, r.mod, '👨‍👩‍👧'.repeat(500))).status, 201);
  });
});

/** `chat.send` over NATS, answered in the shape of an HTTP reply (201, or 400/429/500 with the code). */
async function natsSendAsHttp(h: Harness, channel: TestUser, sender: TestUser, text: string): Promise<HttpReply> {
  const reply = await natsSend(h, channel, sender, text);
  const status = reply['ok'] === true ? 201 : reply['code'] === 'rate_limited' ? 429 : reply['code'] === 'internal_error' ? 500 : 400;
  return { status, body: reply, headers: new Headers() };
}
