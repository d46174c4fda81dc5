/**
 * Issue 9 item 11 through the whole platform: a `chat.send` retried after a timeout or a reconnect is appended once.
 * Each message is sent three times with the same nonce — twice on the first realtime edge, then, after that edge is
 * stopped and a new edge process started on the same port, a third time on the new one (one message's first attempt
 * is in flight when the edge stops). Each is found once in the event store, once in query-api's chat history, and
 * relayed once to viewers; every attempt is answered with the same ack. And the web client in Chromium: a message
 * whose ack is lost with the edge is resent with its nonce after the reconnect, acknowledged, shown and stored once
 * (needs apps/web built: `npm run build -w @eventcast/web`).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createEventStore, type EventStore } from '@eventcast/event-store';
import { loadConfig } from '@eventcast/platform';
import { openPageAs, registerAccount, type TestAccount } from './accounts.js';
import { eventually, launchChromium, ROOT, startE2ePlatform, type E2eEnv } from './harness.js';
import { connectEdge, type EdgeClient, type Frame } from './ws-client.js';

type Account = TestAccount;

describe('chat retries never duplicate, across an edge restart', () => {
  const jwtSecret = randomBytes(32).toString('hex');
  const run = Date.now().toString(36).slice(-5);
  let env: E2eEnv;
  let store: EventStore;
  let edge2: ChildProcess | undefined;
  let browser: Browser | undefined;
  const clients: EdgeClient[] = [];

  const register = (username: string): Promise<Account> => registerAccount(env.platform.urls.commandApi, username);

  /** A socket on the current edge, signed in as `account` (or a guest), subscribed to `channel`. */
  async function viewer(account: Account | null, channel: string): Promise<EdgeClient> {
    const c = await connectEdge(account ? `${env.platform.urls.realtime}?token=${account.token}` : env.platform.urls.realtime);
    clients.push(c);
    if (account) await c.next((f) => f.type === 'authenticated');
    await c.request({ type: 'subscribe', channel }, (f) => f.type === 'subscribed');
    return c;
  }

  /** Sends one `chat.send` frame and waits for its answer. */
  function send(c: EdgeClient, channel: string, text: string, nonce: string): Promise<Frame> {
    return c.request({ type: 'chat.send', channel, text, nonce }, (f) => f['nonce'] === nonce && (f.type === 'chat.ack' || f.type === 'error'), 10_000);
  }

  /** Polls `url` until it answers 200. */
  async function waitOk(url: string): Promise<void> {
    await eventually(`${url} to answer 200`, async () => (await fetch(url).catch(() => null))?.ok ?? false, 30_000);
  }

  /** Whether process `pid` is gone. */
  const gone = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  };

  /**
   * Stops the running realtime edge (the platform's, or the one started here before) with SIGTERM — it closes its
   * sockets with 1001 — and starts a new edge process on the same port; resolves once the new one is ready.
   */
  async function restartEdge(env2: Record<string, string> = {}): Promise<void> {
    const pid = edge2?.pid ?? env.platform.pids['realtime'];
    assert.ok(pid, 'a realtime edge runs');
    process.kill(pid, 'SIGTERM');
    await eventually('the old edge to exit', () => Promise.resolve(gone(pid)));
    edge2 = spawn(process.execPath, ['dist/main.js'], {
      cwd: join(ROOT, 'apps/realtime'),
      env: {
        ...process.env,
        // The platform's NATS is authenticated: the edge connects as its own user.
        ...env.nats.envFor('realtime'),
        JWT_SECRET: jwtSecret,
        REALTIME_PORT: String(env.platform.ports.realtime),
        REALTIME_CONNECTIONS_PER_IP_PER_10S: '1000',
        LOG_LEVEL: 'warn',
        ...env2,
      },
      stdio: 'ignore',
    });
    await waitOk(`http://127.0.0.1:${env.platform.ports.realtime}/ready`);
  }

  before(async () => {
    env = await startE2ePlatform({ logLevel: 'warn', env: { JWT_SECRET: jwtSecret } });
    store = await createEventStore(loadConfig({ DATABASE_URL: env.db.url }));
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await browser?.close();
    if (edge2 && edge2.exitCode === null && edge2.signalCode === null) {
      const exited = new Promise((r) => edge2?.once('exit', r));
      edge2.kill('SIGTERM');
      await exited;
    }
    await store?.close();
    await env?.dispose();
  });

  it('each message, sent 3 times with one nonce across an edge restart, is stored, projected and relayed once', async () => {
    const owner = await register(`rtown_${run}`);
    const bob = await register(`rtbob_${run}`);
    const channel = owner.username;
    const isSent = (messageId: unknown) => (f: Frame) => f.type === 'event' && (f['event'] as { type: string; data: { messageId: string } }).type === 'ChatMessageSent' && (f['event'] as { data: { messageId: string } }).data.messageId === messageId;

    // Edge 1 (the platform's own): attempts 1 and 2.
    const watcher1 = await viewer(null, channel);
    const bob1 = await viewer(bob, channel);
    const messages = ['first message', 'second message', 'third message'].map((text) => ({ text, nonce: randomUUID(), ack: undefined as Frame | undefined }));
    for (const m of messages) {
      m.ack = await send(bob1, channel, m.text, m.nonce);
      assert.equal(m.ack.type, 'chat.ack', JSON.stringify(m.ack));
    }
    for (const m of messages) assert.deepEqual(await send(bob1, channel, m.text, m.nonce), m.ack);
    for (const m of messages) await watcher1.next(isSent(m.ack?.['messageId']));
    // A send whose answer the client never sees: the edge is stopped right after it.
    const lost = { text: 'sent while the edge stops', nonce: randomUUID() };
    bob1.send({ type: 'chat.send', channel, ...lost });

    await restartEdge();
    const watcher2 = await viewer(null, channel);
    const bob2 = await viewer(bob, channel);

    // Attempt 3 of each: the same ack.
    for (const m of messages) assert.deepEqual(await send(bob2, channel, m.text, m.nonce), m.ack);
    // The lost one: attempts 2 and 3 get one ack, whether or not attempt 1 was stored before edge 1 stopped.
    const lostAck = await send(bob2, channel, lost.text, lost.nonce);
    assert.equal(lostAck.type, 'chat.ack', JSON.stringify(lostAck));
    assert.deepEqual(await send(bob2, channel, lost.text, lost.nonce), lostAck);
    // A message sent 3 times on edge 2 is relayed once to its viewers.
    const fresh = { text: 'sent three times on edge 2', nonce: randomUUID() };
    const freshAcks = [await send(bob2, channel, fresh.text, fresh.nonce), await send(bob2, channel, fresh.text, fresh.nonce), await send(bob2, channel, fresh.text, fresh.nonce)];
    assert.equal(freshAcks[0]?.type, 'chat.ack');
    assert.deepEqual(freshAcks[1], freshAcks[0]);
    assert.deepEqual(freshAcks[2], freshAcks[0]);
    await watcher2.next(isSent(freshAcks[0]?.['messageId']));
    await sleep(1500); // room for a duplicate to show up
    assert.equal(watcher2.frames.filter(isSent(freshAcks[0]?.['messageId'])).length, 1);
    for (const m of messages) assert.equal(watcher1.frames.filter(isSent(m.ack?.['messageId'])).length, 1, `${m.text} relayed once on edge 1`);

    // The store: each message once, with the acked message id.
    const all = [...messages.map((m) => m.text), lost.text, fresh.text];
    const stored = (await store.readStream(`chat-${owner.id}`)).filter((e) => e.type === 'ChatMessageSent').map((e) => e.data as { text: string; messageId: string });
    assert.deepEqual(stored.map((d) => d.text).sort(), [...all].sort());
    assert.equal(stored.find((d) => d.text === lost.text)?.messageId, lostAck['messageId']);
    // The read model: each message once.
    const history = await eventually('chat history to have every message', async () => {
      const r = await fetch(`${env.platform.urls.queryApi}/channels/${channel}/chat/messages?limit=100`);
      const texts = ((await r.json()) as { messages: { text: string }[] }).messages.map((m) => m.text);
      return all.every((t) => texts.includes(t)) ? texts : null;
    });
    assert.deepEqual([...history].sort(), [...all].sort());
  });
  it('the web client resends an unacknowledged message with its nonce after a reconnect: acked, shown and stored once', async () => {
    const owner = await register(`rwown_${run}`);
    const carol = await register(`rwcar_${run}`);
    browser = await launchChromium();
    const page = await openPageAs(browser, env.platform.urls.web, carol, `/${owner.username}`);
    const input = page.getByTestId('chat-input');
    await page.getByText(`Chatting as ${carol.username}`).waitFor({ timeout: 15_000 });
    const commandApi = env.platform.pids['command-api'];
    assert.ok(commandApi);
    const text = `sent across a reconnect ${run}`;
    // The command side is paused: the first attempt reaches it (NATS buffers the request) but cannot answer yet.
    process.kill(commandApi, 'SIGSTOP');
    try {
      await input.fill(text);
      await page.getByTestId('chat-send').click();
      await sleep(300);
      // The edge goes away before any ack; the page reconnects to a new edge and resends the same frame.
      await restartEdge({ REALTIME_CHAT_SEND_TIMEOUT_MS: '8000' });
      await page.getByText(`Chatting as ${carol.username}`).waitFor({ timeout: 10_000 });
      await sleep(500);
    } finally {
      process.kill(commandApi, 'SIGCONT');
    }
    // The resend is answered with the ack of the first attempt: the input clears, no error is shown.
    await eventually('the send to be acknowledged', async () => (await input.inputValue()) === '', 15_000);
    assert.equal(await page.getByTestId('chat-error').innerText().catch(() => ''), '');
    await page.getByTestId('chat-message').filter({ hasText: text }).first().waitFor({ timeout: 15_000 });
    await sleep(1000);
    assert.equal(await page.getByTestId('chat-message').filter({ hasText: text }).count(), 1);
    const stored = (await store.readStream(`chat-${owner.id}`)).filter((e) => e.type === 'ChatMessageSent' && (e.data as { text: string }).text === text);
    assert.equal(stored.length, 1);
  });
});
