/**
 * Integrations on the command side against real PostgreSQL and a private NATS: scoped API tokens (create → use with
 * the right scope → 403 without it → revoke → 401 at once), the bot's chat messages, webhook registration with URL
 * validation, and that neither the token nor the signing secret is ever stored or logged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { streams } from '@eventcast/events';
import { decryptSecret, hashApiToken } from '@eventcast/platform';
import { bearer, startHarness, type Harness } from '../test-support/harness.js';
import { user, type TestUser } from '../chat/chat-test-support.js';

describe('integrations: API tokens and webhooks (command side)', () => {
  let h: Harness;
  let alice: TestUser;
  let bob: TestUser;
  before(async () => {
    h = await startHarness();
    alice = await user(h, 'int_alice');
    bob = await user(h, 'int_bob');
  });
  after(async () => {
    await h.stop();
  });

  const createToken = (owner: TestUser, body: Record<string, unknown>) => h.http<Record<string, unknown>>('POST', '/me/integrations/tokens', body, bearer(owner.token));

  it('creates a token shown once, lists it without the secret, and stores only its hash', async () => {
    const r = await createToken(alice, { name: 'overlay', scopes: ['chat:send', 'chat:read'], botName: 'alice_helper' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const token = String(r.body['token']);
    assert.match(token, /^ect_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(r.body['scopes'], ['chat:send', 'chat:read']);
    assert.equal(r.body['botName'], 'alice_helper');
    assert.equal(r.body['prefix'], token.slice(0, 12));
    const list = await h.http<{ tokens: Record<string, unknown>[] }>('GET', '/me/integrations/tokens', undefined, bearer(alice.token));
    assert.equal(list.status, 200);
    assert.equal(list.body.tokens.length, 1);
    assert.equal(list.body.tokens[0]!['token'], undefined);
    const events = (await h.allEvents()).filter((e) => e.streamName === streams.integrations(alice.id));
    assert.deepEqual(events.map((e) => e.type), ['ApiTokenCreated']);
    assert.equal((events[0]!.data as Record<string, unknown>)['tokenHash'], hashApiToken(token));
    assert.ok(!JSON.stringify(await h.allEvents()).includes(token), 'the token must not be in any event');
    assert.ok(!h.logs.join('\n').includes(token), 'the token must not be logged');
    // Bob cannot see Alice's tokens.
    const bobs = await h.http<{ tokens: unknown[] }>('GET', '/me/integrations/tokens', undefined, bearer(bob.token));
    assert.deepEqual(bobs.body.tokens, []);
  });

  it('refuses bad token requests with reasons', async () => {
    const bad = await createToken(alice, { name: 'x', scopes: ['chat:delete'] });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body['message']), /each scope must be one of chat:send, chat:read, channel:write/);
    assert.equal((await createToken(alice, { name: 'x', scopes: [] })).status, 400);
    assert.match(String((await createToken(alice, { name: 'x', scopes: ['chat:send'], botName: 'Bad Name!' })).body['message']), /botName/);
    assert.equal((await h.http('POST', '/me/integrations/tokens', { name: 'x', scopes: ['chat:send'] })).status, 401);
  });

  it('a bot is held to 100 messages per 30 s: the next is 429 rate_limited with Retry-After', async () => {
    const token = String((await createToken(alice, { name: 'chatty', scopes: ['chat:send'], botName: 'alice_chatty' })).body['token']);
    for (let i = 0; i < 100; i++) {
      const r = await h.http('POST', `/channels/${alice.name}/chat/messages`, { text: `tick ${i}` }, bearer(token));
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    const over = await h.http('POST', `/channels/${alice.name}/chat/messages`, { text: 'one too many' }, bearer(token));
    assert.equal(over.status, 429);
    assert.equal(over.body['code'], 'rate_limited');
    assert.ok(Number(over.body['retryAfterMs']) > 0 && Number(over.body['retryAfterMs']) <= 30_000);
    assert.ok(Number(over.headers.get('retry-after')) >= 1);
    // The owner, typing herself, is not the bot.
    assert.equal((await h.http('POST', `/channels/${alice.name}/chat/messages`, { text: 'by hand' }, bearer(alice.token))).status, 201);
  });

  it('token lifecycle: right scope works, wrong scope is 403 with the reason, revoked is 401 at once', async () => {
    const r = await createToken(alice, { name: 'bot', scopes: ['chat:send'] });
    const token = String(r.body['token']);
    const tokenId = String(r.body['id']);
    assert.equal(r.body['botName'], 'int_alice_bot');

    const sent = await h.http('POST', `/channels/${alice.name}/chat/messages`, { text: 'beep boop' }, bearer(token));
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    const msg = (await h.allEvents()).find((e) => e.type === 'ChatMessageSent' && (e.data as { messageId: string }).messageId === sent.body['messageId']);
    assert.ok(msg);
    const d = msg.data as Record<string, unknown>;
    assert.equal(d['senderId'], alice.id);
    assert.equal(d['senderRole'], 'owner');
    assert.deepEqual(d['bot'], { tokenId, name: 'int_alice_bot' });
    assert.equal(msg.metadata.apiTokenId, tokenId, 'the event records which token acted');

    const wrongScope = await h.http('PUT', '/me/channel', { title: 'hijacked' }, bearer(token));
    assert.equal(wrongScope.status, 403);
    assert.match(String(wrongScope.body['message']), /lacks the scope "channel:write"/);

    const elsewhere = await h.http('POST', `/channels/${bob.name}/chat/messages`, { text: 'spam' }, bearer(token));
    assert.equal(elsewhere.status, 403);
    assert.match(String(elsewhere.body['message']), /own channel/);

    const noTokensHere = await h.http('GET', '/me/integrations/tokens', undefined, bearer(token));
    assert.equal(noTokensHere.status, 403);
    assert.equal((await h.http('GET', '/me/stream-key', undefined, bearer(token))).status, 403);

    const revoke = await h.http('DELETE', `/me/integrations/tokens/${tokenId}`, undefined, bearer(alice.token));
    assert.equal(revoke.status, 200);
    assert.match(String(revoke.body['revokedAt']), /^\d{4}-/);
    const afterRevoke = await h.http('POST', `/channels/${alice.name}/chat/messages`, { text: 'still here?' }, bearer(token));
    assert.equal(afterRevoke.status, 401);
    assert.match(String(afterRevoke.body['message']), /revoked/);
    assert.equal((await h.http('DELETE', `/me/integrations/tokens/${tokenId}`, undefined, bearer(alice.token))).status, 200, 'revoking twice is harmless');
    assert.equal((await h.http('DELETE', `/me/integrations/tokens/${tokenId}`, undefined, bearer(bob.token))).status, 404, "bob cannot revoke alice's token");

    const unknown = `${token.slice(0, -4)}AAAA`;
    assert.equal((await h.http('POST', `/channels/${alice.name}/chat/messages`, { text: 'x' }, bearer(unknown))).status, 401);
    assert.equal((await h.http('POST', `/channels/${alice.name}/chat/messages`, { text: 'x' }, bearer('ect_garbage'))).status, 401);
  });

  it('channel:write sets the title and category', async () => {
    const r = await createToken(alice, { name: 'title tool', scopes: ['channel:write'] });
    const res = await h.http('PUT', '/me/channel', { title: 'Set by a tool', category: 'Tools' }, bearer(String(r.body['token'])));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { title: 'Set by a tool', category: 'Tools' });
    const chat = await h.http('POST', `/channels/${alice.name}/chat/messages`, { text: 'x' }, bearer(String(r.body['token'])));
    assert.equal(chat.status, 403);
    assert.match(String(chat.body['message']), /lacks the scope "chat:send"/);
  });

  it('registers webhooks with a secret shown once (stored encrypted), refuses bad URLs, disables, enables and deletes', async () => {
    for (const [url, reason] of [
      ['ftp://example.org/x', /http or https/],
      ['not a url', /absolute URL/],
      ['javascript:alert(1)', /http or https/],
      ['https://user:pw@example.org/x', /credentials/],
      ['http://127.0.0.1:5432/', /private, loopback or link-local/],
      ['http://localhost:4001/me', /private, loopback or link-local/],
      ['http://[::1]/x', /private, loopback or link-local/],
      ['http://169.254.169.254/latest/meta-data', /private, loopback or link-local/],
    ] as const) {
      const r = await h.http('POST', '/me/integrations/webhooks', { url, eventTypes: ['ChatMessageSent'] }, bearer(alice.token));
      assert.equal(r.status, 400, url);
      assert.match(String(r.body['message']), reason);
    }
    const badType = await h.http('POST', '/me/integrations/webhooks', { url: 'https://example.org/x', eventTypes: ['AccountRegistered'] }, bearer(alice.token));
    assert.equal(badType.status, 400);
    assert.match(String(badType.body['message']), /each event type must be one of/);

    const r = await h.http<Record<string, unknown>>('POST', '/me/integrations/webhooks', { url: 'https://example.org/hook', eventTypes: ['ChatMessageSent', 'BroadcastStarted'] }, bearer(alice.token));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const secret = String(r.body['secret']);
    assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    const id = String(r.body['id']);
    const registered = (await h.allEvents()).find((e) => e.type === 'WebhookRegistered');
    const data = registered!.data as Record<string, unknown>;
    assert.equal(decryptSecret(String(data['secretCiphertext']), h.config.STREAM_KEY_SECRET), secret);
    assert.ok(!JSON.stringify(await h.allEvents()).includes(secret) && !h.logs.join('\n').includes(secret));

    const list = await h.http<{ webhooks: Record<string, unknown>[] }>('GET', '/me/integrations/webhooks', undefined, bearer(alice.token));
    assert.deepEqual(list.body.webhooks, [{ id, url: 'https://example.org/hook', eventTypes: ['ChatMessageSent', 'BroadcastStarted'], enabled: true }]);
    assert.equal((await h.http('POST', `/me/integrations/webhooks/${id}/disable`, undefined, bearer(alice.token))).body['enabled'], false);
    assert.equal((await h.http('POST', `/me/integrations/webhooks/${id}/enable`, undefined, bearer(alice.token))).body['enabled'], true);
    assert.equal((await h.http('POST', `/me/integrations/webhooks/${id}/disable`, undefined, bearer(bob.token))).status, 404);
    assert.equal((await h.http('DELETE', `/me/integrations/webhooks/${id}`, undefined, bearer(alice.token))).status, 200);
    assert.equal((await h.http('DELETE', `/me/integrations/webhooks/${id}`, undefined, bearer(alice.token))).status, 404);
    assert.deepEqual((await h.http<{ webhooks: unknown[] }>('GET', '/me/integrations/webhooks', undefined, bearer(alice.token))).body.webhooks, []);
  });
});
