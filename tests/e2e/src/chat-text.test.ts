/**
 * The chat text rule through the whole platform (issue 9, items 1 and 6): the realtime edge refuses NUL, lone
 * surrogates and bidi overrides with an `invalid_request` error frame naming the character (nothing reaches the
 * command side), lengths count graphemes end to end (500 emoji are sent, 501 are `too_long`), and the web chat
 * input's counter in Chromium counts the same way and names a refused character before sending.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createEventStore, type EventStore } from '@eventcast/event-store';
import { loadConfig } from '@eventcast/platform';
import { openPageAs, registerAccount, type TestAccount } from './accounts.js';
import { launchChromium, startE2ePlatform, type E2eEnv } from './harness.js';
import { connectEdge, type EdgeClient, type Frame } from './ws-client.js';

describe('chat text rule, end to end', () => {
  let env: E2eEnv;
  let store: EventStore;
  let browser: Browser;
  let owner: TestAccount;
  let viewer: TestAccount;
  let ws: EdgeClient;
  let nonce = 0;
  const run = Date.now().toString(36).slice(-5);

  before(async () => {
    env = await startE2ePlatform({ logLevel: 'warn' });
    store = await createEventStore(loadConfig({ DATABASE_URL: env.db.url }));
    browser = await launchChromium();
    owner = await registerAccount(env.platform.urls.commandApi, `txt_own_${run}`);
    viewer = await registerAccount(env.platform.urls.commandApi, `txt_view_${run}`);
    ws = await connectEdge(`${env.platform.urls.realtime}?token=${viewer.token}`);
    await ws.next((f) => f.type === 'authenticated', 10_000);
    const from = ws.frames.length;
    ws.send({ type: 'subscribe', channel: owner.username });
    await ws.next((f) => f.type === 'subscribed', 10_000, from);
  });

  after(async () => {
    await ws?.close().catch(() => undefined);
    await browser?.close();
    await store?.close();
    await env?.dispose();
  });

  /** Sends `text` raw (already JSON-escaped inside the frame) and resolves with the ack or the error frame. */
  function sayRaw(escapedText: string): Promise<Frame> {
    const n = `t${++nonce}`;
    return ws.request(JSON.parse(`{"type":"chat.send","channel":"${owner.username}","text":"${escapedText}","nonce":"${n}"}`) as Frame, (f) => f['nonce'] === n && (f.type === 'chat.ack' || f.type === 'error'));
  }

  it('the edge refuses NUL, lone surrogates, controls and bidi overrides with a reason; nothing is stored', async () => {
    for (const [escaped, label] of [
      ['x\\u0000', 'U+0000'],
      ['lone \\ud800', 'U+D800'],
      ['abc \\u202e dcba', 'U+202E'],
      ['\\u2067isolate', 'U+2067'],
      ['bell\\u0007', 'U+0007'],
    ] as const) {
      const f = await sayRaw(escaped);
      assert.equal(f.type, 'error', JSON.stringify(f));
      assert.equal(f['code'], 'invalid_request');
      assert.match(String(f['message']), new RegExp(`^text contains ${label.replace('+', '\\+')}`));
    }
    const stored = await store.readAll({ eventTypes: ['ChatMessageSent', 'ChatMessageRefused'] });
    assert.equal(stored.length, 0);
  });

  it('counts graphemes end to end: 500 emoji are sent, 501 are too_long; combining accents count once', async () => {
    const ok = await sayRaw('😀'.repeat(500));
    assert.equal(ok.type, 'chat.ack', JSON.stringify(ok));
    const long = await sayRaw('😀'.repeat(501));
    assert.equal(long['code'], 'too_long');
    const accents = await sayRaw('e\u0301'.repeat(500));
    assert.equal(accents.type, 'chat.ack', JSON.stringify(accents));
  });

  it("the web chat input's counter counts graphemes and names a refused character before sending", async () => {
    const page = await openPageAs(browser, env.platform.urls.web, viewer, `/${owner.username}`);
    try {
      const input = page.getByTestId('chat-input');
      const counter = page.locator('#chat-counter');
      const send = page.getByTestId('chat-send');
      await input.waitFor({ timeout: 15_000 });
      await input.fill('😀'.repeat(500));
      await page.waitForFunction(() => document.querySelector('#chat-counter')?.textContent?.trim() === '500/500');
      assert.equal(await counter.evaluate((el) => el.classList.contains('over')), false);
      await page.waitForFunction(() => !document.querySelector<HTMLButtonElement>('[data-testid="chat-send"]')?.disabled, null, { timeout: 15_000 });
      await input.fill('😀'.repeat(501));
      await page.waitForFunction(() => document.querySelector('#chat-counter')?.textContent?.trim() === '501/500');
      assert.equal(await counter.evaluate((el) => el.classList.contains('over')), true);
      assert.equal(await send.isDisabled(), true);
      await input.fill('cafe\u0301 👨‍👩‍👧');
      await page.waitForFunction(() => document.querySelector('#chat-counter')?.textContent?.trim() === '6/500');
      await input.fill('hello \u202e olleh');
      const problem = page.getByTestId('chat-text-problem');
      await problem.waitFor({ timeout: 5_000 });
      assert.match(await problem.innerText(), /U\+202E/);
      assert.equal(await send.isDisabled(), true);
    } finally {
      await page.close();
    }
  });
});
