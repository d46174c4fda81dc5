/**
 * Chat and moderation through the whole platform: WebSocket clients on the real uWebSockets.js edge send over NATS to
 * the command side, the events go through the PostgreSQL store and JetStream back to every viewer, query-api projects
 * history and the moderation log, and a guest watches the chat panel in Chromium.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createEventStore, type EventStore } from '@eventcast/event-store';
import { loadConfig } from '@eventcast/platform';
import { eventually, launchChromium, startE2ePlatform, type E2eEnv } from './harness.js';
import { connectEdge, SocketClosedError, type EdgeClient, type Frame } from './ws-client.js';

interface Account {
  token: string;
  id: string;
  username: string;
}

describe('live chat and moderation, end to end', () => {
  let env: E2eEnv;
  let store: EventStore;
  let browser: Browser;
  const run = Date.now().toString(36).slice(-5);
  const name = (n: string) => `${n}_${run}`;
  let owner: Account;
  let bob: Account;
  let carol: Account;
  let dave: Account;
  const clients: EdgeClient[] = [];
  let nonce = 0;

  async function http(method: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${env.platform.urls.commandApi}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async function register(username: string): Promise<Account> {
    const r = await http('POST', '/auth/register', null, { username, password: 'a long enough password' });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const account = r.json['account'] as { id: string; username: string };
    return { token: r.json['token'] as string, ...account };
  }

  /** Connects, signs in (with a token) and subscribes to the owner's channel; fails fast if the socket closes. */
  async function viewer(account: Account | null): Promise<EdgeClient> {
    const url = account ? `${env.platform.urls.realtime}?token=${account.token}` : env.platform.urls.realtime;
    const c = await connectEdge(url);
    clients.push(c);
    const awaitFrame = async (pred: (f: Frame) => boolean, from = 0) => {
      const f = await c.next((x) => pred(x) || x.type === '__closed', 10_000, from);
      if (f.type === '__closed') throw new SocketClosedError(f['code']);
      return f;
    };
    if (account) await awaitFrame((f) => f.type === 'authenticated');
    const from = c.frames.length;
    c.send({ type: 'subscribe', channel: owner.username });
    await awaitFrame((f) => f.type === 'subscribed', from);
    return c;
  }

  /** Sends a chat message and resolves with the ack or the error frame. */
  async function say(c: EdgeClient, text: string): Promise<Frame> {
    const n = `n${++nonce}`;
    return c.request({ type: 'chat.send', channel: owner.username, text, nonce: n }, (f) => f['nonce'] === n && (f.type === 'chat.ack' || f.type === 'error'));
  }

  /** Asserts that a send was acknowledged, showing the error frame otherwise. */
  async function sayOk(c: EdgeClient, text: string): Promise<Frame> {
    const f = await say(c, text);
    assert.equal(f.type, 'chat.ack', `"${text}" refused: ${JSON.stringify(f)}`);
    return f;
  }

  const sent = (text: string) => (f: Frame) => f.type === 'event' && (f['event'] as { type: string; data: { text?: string } }).type === 'ChatMessageSent' && (f['event'] as { data: { text: string } }).data.text === text;
  const eventOf = (type: string) => (f: Frame) => f.type === 'event' && (f['event'] as { type: string }).type === type;

  async function history(): Promise<string[]> {
    const r = await fetch(`${env.platform.urls.queryApi}/channels/${owner.username}/chat/messages?limit=100`);
    const body = (await r.json()) as { messages: { text: string }[] };
    return body.messages.map((m) => m.text);
  }

  before(async () => {
    env = await startE2ePlatform();
    store = await createEventStore(loadConfig({ DATABASE_URL: env.db.url }));
    browser = await launchChromium();
    owner = await register(name('owner'));
    bob = await register(name('bob'));
    carol = await register(name('carol'));
    dave = await register(name('dave'));
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await browser?.close();
    await store?.close();
    await env?.dispose();
  });

  it('delivers a message to every viewer only after it is stored, and shows it in the chat panel', async () => {
    const page = await browser.newPage();
    await page.goto(`${env.platform.urls.web}/${owner.username}`);
    const guest = await viewer(null);
    const carolWs = await viewer(carol);
    const bobWs = await viewer(bob);
    await sayOk(bobWs, 'hello <b>chat</b>');
    const got = await guest.next(sent('hello <b>chat</b>'));
    await carolWs.next(sent('hello <b>chat</b>'));
    const event = got['event'] as { id: string; globalPosition: string };
    const stored = await store.readAll({ eventTypes: ['ChatMessageSent'] });
    assert.ok(stored.some((e) => e.id === event.id && e.globalPosition.toString() === event.globalPosition), 'the relayed event is the stored one');
    // Rendered as text, never HTML.
    const message = page.getByTestId('chat-message').filter({ hasText: 'hello <b>chat</b>' });
    await message.waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('[data-testid="chat-messages"] b').count(), 0);
    await eventually('history to have the message', async () => (await history()).includes('hello <b>chat</b>'));
    // Presence: three sockets and the page watch the channel.
    const presence = await guest.next((f) => f.type === 'presence' && Number(f['viewers']) >= 3, 15_000);
    assert.ok(Number(presence['chatters']) >= 2);
    await page.close();
  });

  it('answers bad frames and guests with error frames and keeps the connection healthy', async () => {
    const guest = await viewer(null);
    const bad = await guest.request({ type: 'dance' }, (f) => f.type === 'error');
    assert.equal(bad['code'], 'unknown_type');
    assert.equal((await guest.request('just a string', (f) => f.type === 'error' && f !== bad))['code'], 'malformed_json');
    const from = guest.frames.length;
    guest.sendRaw('{oops');
    assert.equal((await guest.next((f) => f.type === 'error', 5000, from))['code'], 'malformed_json');
    assert.equal((await say(guest, 'hi'))['code'], 'unauthenticated');
    await guest.request({ type: 'ping' }, (f) => f.type === 'pong');
    const bobWs = await viewer(bob);
    assert.equal((await say(bobWs, '   '))['code'], 'empty');
    assert.equal((await say(bobWs, 'x'.repeat(501)))['code'], 'too_long');
  });

  it('applies moderation: moderators, delete, slow mode, followers-only, timeout, ban, clear', async () => {
    const guest = await viewer(null);
    const bobWs = await viewer(bob);
    const carolWs = await viewer(carol);
    assert.equal((await http('PUT', `/channels/${owner.username}/chat/moderators/${dave.username}`, bob.token)).status, 403, 'only the owner appoints moderators');
    assert.equal((await http('PUT', `/channels/${owner.username}/chat/moderators/${dave.username}`, owner.token)).status, 200);

    // Delete: gone for viewers and from history.
    const ack = await sayOk(bobWs, 'delete me');
    await guest.next(sent('delete me'));
    const del = await http('DELETE', `/channels/${owner.username}/chat/messages/${String(ack['messageId'])}`, dave.token, { reason: 'spam' });
    assert.equal(del.status, 200, JSON.stringify(del.json));
    await guest.next(eventOf('ChatMessageDeleted'));
    await eventually('history without the deleted message', async () => !(await history()).includes('delete me'));

    // Slow mode.
    assert.equal((await http('PUT', `/channels/${owner.username}/chat/settings`, dave.token, { slowModeSeconds: 30 })).status, 200);
    await guest.next(eventOf('ChatSettingsChanged'));
    await sayOk(carolWs, 'slow 1'); // carol has not spoken yet: slow mode counts from a user's previous message
    const slow = await say(carolWs, 'slow 2');
    assert.equal(slow['code'], 'slow_mode');
    assert.ok(Number(slow['retryAfterMs']) > 0);

    // Followers-only.
    await http('PUT', `/channels/${owner.username}/chat/settings`, owner.token, { slowModeSeconds: 0, followersOnly: true });
    assert.equal((await say(carolWs, 'not a follower'))['code'], 'followers_only');
    assert.equal((await http('PUT', `/channels/${owner.username}/follow`, carol.token)).status, 200);
    await sayOk(carolWs, 'now I follow');
    await http('PUT', `/channels/${owner.username}/chat/settings`, owner.token, { followersOnly: false });

    // Timeout.
    assert.equal((await http('POST', `/channels/${owner.username}/chat/timeouts`, dave.token, { username: bob.username, durationSeconds: 60, reason: 'calm down' })).status, 201);
    await guest.next(eventOf('ChatUserTimedOut'));
    assert.equal((await say(bobWs, 'am I muted?'))['code'], 'timed_out');

    // Ban and unban.
    assert.equal((await http('POST', `/channels/${owner.username}/chat/bans`, dave.token, { username: carol.username, reason: 'rude' })).status, 201);
    assert.equal((await say(carolWs, 'banned?'))['code'], 'banned');
    assert.equal((await http('POST', `/channels/${owner.username}/chat/bans`, dave.token, { username: owner.username })).status, 403, 'nobody bans the owner');
    assert.equal((await http('DELETE', `/channels/${owner.username}/chat/bans/${carol.username}`, owner.token)).status, 200);
    await sayOk(carolWs, 'back again');

    // Clear.
    assert.equal((await http('POST', `/channels/${owner.username}/chat/clear`, dave.token)).status, 200);
    await guest.next(eventOf('ChatCleared'));
    await eventually('an empty history after the clear', async () => (await history()).length === 0);

    // The moderation log says who did what, and is for the owner and moderators only.
    const log = await eventually('the moderation log', async () => {
      const r = await fetch(`${env.platform.urls.queryApi}/channels/${owner.username}/chat/moderation-log?limit=100`, { headers: { authorization: `Bearer ${owner.token}` } });
      const body = (await r.json()) as { entries: { action: string; moderatorName: string }[] };
      return body.entries.some((e) => e.action === 'chat_cleared') ? body.entries : null;
    });
    for (const action of ['message_deleted', 'settings_changed', 'user_timed_out', 'user_banned', 'user_unbanned', 'moderator_added']) {
      assert.ok(log.some((e) => e.action === action), `log has ${action}`);
    }
    const denied = await fetch(`${env.platform.urls.queryApi}/channels/${owner.username}/chat/moderation-log`, { headers: { authorization: `Bearer ${bob.token}` } });
    assert.equal(denied.status, 403);
  });

  it('never stores a message a user sent after their ban was committed, even when racing', async () => {
    for (let round = 0; round < 8; round++) {
      const racer = await register(name(`r${round}`));
      const ws = await viewer(racer);
      await say(ws, 'warm up');
      await Promise.all([
        say(ws, `race ${round}`),
        http('POST', `/channels/${owner.username}/chat/bans`, owner.token, { username: racer.username }),
        say(ws, `race ${round} again`),
      ]);
      const events = await store.readStream(`chat-${owner.id}`);
      const banAt = events.findIndex((e) => e.type === 'ChatUserBanned' && (e.data as { userId: string }).userId === racer.id);
      assert.ok(banAt >= 0, 'the ban is stored');
      const after = events.slice(banAt + 1).filter((e) => e.type === 'ChatMessageSent' && (e.data as { senderId: string }).senderId === racer.id);
      assert.equal(after.length, 0, `round ${round}: no message by the banned user after the ban`);
      await ws.close();
    }
  });
});
