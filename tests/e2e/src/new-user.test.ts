/**
 * What a new user met (issue 9 item 9), in Chromium against the whole platform: a bot message shows the bot's name
 * and badge (live and from history); sign-up as a reserved name says "reserved by the platform" and as a taken one
 * shows the API's reason; app paths such as `/settings` answer a plain 404; the moderation log says what a settings
 * change changed ("rate limit 5 → 10"); a moderator's ban of the owner says why it was refused; and at 390 px the
 * channel page's Offline badge and Follow button do not overlap and the dashboard's "Analytics" link is on screen
 * (bounding boxes from the DOM).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { openPageAs, registerAccount, signInPage, type TestAccount } from './accounts.js';
import { launchChromium, startE2ePlatform, type E2eEnv } from './harness.js';

/** A DOM box (CSS pixels). */
interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

async function box(l: Locator): Promise<Box> {
  const b = await l.boundingBox();
  assert.ok(b, 'element is rendered');
  return b;
}

const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe('what a new user met (issue 9 item 9)', () => {
  let env: E2eEnv;
  let browser: Browser;
  const run = Date.now().toString(36).slice(-5);
  let owner: TestAccount;
  let mod: TestAccount;
  let viewer: TestAccount;
  const web = () => env.platform.urls.web;

  async function command(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${env.platform.urls.commandApi}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  before(async () => {
    env = await startE2ePlatform({ logLevel: 'warn' });
    browser = await launchChromium();
    owner = await registerAccount(env.platform.urls.commandApi, `nu${run}_owner`);
    mod = await registerAccount(env.platform.urls.commandApi, `nu${run}_mod`);
    viewer = await registerAccount(env.platform.urls.commandApi, `nu${run}_viewer`);
    assert.equal((await command('PUT', `/channels/${owner.username}/chat/moderators/${mod.username}`, owner.token)).status, 200);
  });

  after(async () => {
    await browser?.close();
    await env?.dispose();
  });

  it('shows a bot message with the bot name and a bot badge, live and from history', async () => {
    const created = await command('POST', '/me/integrations/tokens', owner.token, { name: 'greeter', scopes: ['chat:send'], botName: `nu${run}_bot` });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const page = await openPageAs(browser, web(), viewer, `/${owner.username}`);
    try {
      await page.getByTestId('follow').waitFor({ timeout: 15_000 });
      // Chat is joined once the panel has synced; give the subscription a moment before the bot speaks.
      await page.waitForTimeout(1000);
      const sent = await command('POST', `/channels/${owner.username}/chat/messages`, String(created.json['token']), { text: 'beep boop, welcome' });
      assert.equal(sent.status, 201, JSON.stringify(sent.json));
      const check = async (p: Page, how: string) => {
        const line = p.getByTestId('chat-message').filter({ hasText: 'beep boop, welcome' });
        await line.waitFor({ timeout: 15_000 });
        assert.equal(await line.getAttribute('data-bot'), `nu${run}_bot`, how);
        assert.equal((await line.getByTestId('bot-name').textContent())?.trim(), `nu${run}_bot`, how);
        assert.equal(await line.getByRole('img', { name: 'Bot' }).count(), 1, `${how}: bot badge`);
        assert.equal(await line.getByRole('img', { name: 'Streamer' }).count(), 0, `${how}: not shown as the broadcaster`);
      };
      await check(page, 'live (relayed ChatMessageSent)');
      await page.reload();
      await check(page, 'history (query-api ChatMessageView)');
    } finally {
      await page.close();
    }
  });

  it('sign-up as a reserved name says "reserved by the platform"; a taken name shows the API reason', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${web()}/signup`);
      await page.locator('#username').fill('admin');
      await page.locator('#password').fill('a long enough password');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByText('reserved by the platform').first().waitFor({ timeout: 10_000 });
      assert.equal(await page.getByText('already taken').count(), 0);

      await page.locator('#username').fill(owner.username);
      await page.getByRole('button', { name: 'Create account' }).click();
      const error = page.getByTestId('form-error');
      await error.waitFor({ timeout: 10_000 });
      assert.equal((await error.textContent())?.trim(), 'Username is taken. Try another one.', "the API's reason, as a sentence");
    } finally {
      await page.close();
    }
  });

  it('answers reserved app paths with a plain 404, not "no channel called …"', async () => {
    const page = await browser.newPage();
    try {
      for (const path of ['settings', 'search', 'videos', 'following', 'notifications', 'directory', 'clips']) {
        const res = await page.goto(`${web()}/${path}`);
        assert.equal(res?.status(), 404, path);
        await page.getByTestId('not-found').waitFor({ timeout: 10_000 });
        assert.match((await page.locator('h1').textContent()) ?? '', /Page not found/);
        assert.equal(await page.getByText("There's no channel called").count(), 0, path);
      }
      // A channel name that is not reserved still reaches the channel page (and its own not-found).
      await page.goto(`${web()}/nu${run}_nobody`);
      await page.getByTestId('channel-not-found').waitFor({ timeout: 10_000 });
    } finally {
      await page.close();
    }
  });

  it('the moderation log shows a rate-limit change old → new', async () => {
    const changed = await command('PUT', `/channels/${owner.username}/chat/settings`, owner.token, { rateLimitMessages: 10 });
    assert.equal(changed.status, 200, JSON.stringify(changed.json));
    const page = await openPageAs(browser, web(), owner, `/${owner.username}/moderation`);
    try {
      const entry = page.locator('[data-testid="moderation-entry"][data-action="settings_changed"]');
      await entry.first().waitFor({ timeout: 15_000 });
      assert.match((await entry.first().textContent()) ?? '', /rate limit 5 → 10 messages per 10 s/);
      assert.doesNotMatch((await entry.first().textContent()) ?? '', /defaults/);
    } finally {
      await page.close();
    }
  });

  it("a moderator's ban of the owner shows why it was refused", async () => {
    const page = await openPageAs(browser, web(), mod, `/${owner.username}/moderation`);
    try {
      await page.getByTestId('ban-input').fill(owner.username);
      await page.getByTestId('ban-submit').click();
      const result = page.getByTestId('ban-result');
      await result.waitFor({ timeout: 10_000 });
      assert.equal((await result.textContent())?.trim(), `Couldn't ban ${owner.username}: Moderators cannot ban the channel owner.`);
    } finally {
      await page.close();
    }
  });

  it('at 390 px: Offline and Follow do not overlap on the channel page; "Analytics" is on screen on the dashboard', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    try {
      const page = await ctx.newPage();
      await page.goto(`${web()}/`);
      await signInPage(page, viewer);
      await page.goto(`${web()}/${owner.username}`);
      const follow = page.getByTestId('follow');
      await follow.waitFor({ timeout: 15_000 });
      const status = page.getByTestId('live-status');
      assert.equal((await status.textContent())?.trim(), 'Offline');
      const [s, f] = [await box(status), await box(follow)];
      assert.ok(!overlap(s, f), `Offline ${JSON.stringify(s)} and Follow ${JSON.stringify(f)} overlap`);
      for (const b of [s, f]) assert.ok(b.x >= 0 && b.x + b.width <= 390, `inside the 390-px viewport: ${JSON.stringify(b)}`);

      const dash = await ctx.newPage();
      await dash.goto(`${web()}/`);
      await signInPage(dash, owner);
      await dash.goto(`${web()}/dashboard`);
      const analytics = dash.getByTestId('analytics-link');
      await analytics.waitFor({ timeout: 15_000 });
      const a = await box(analytics);
      assert.ok(a.x >= 0 && a.x + a.width <= 390, `"Analytics" inside the 390-px viewport: ${JSON.stringify(a)}`);
      const card = await box(dash.getByTestId('own-live-status'));
      assert.ok(card.x + card.width <= 390, `status bar inside the viewport: ${JSON.stringify(card)}`);
      assert.equal(await dash.evaluate(() => document.documentElement.scrollWidth), 390, 'no horizontal scrolling');
    } finally {
      await ctx.close();
    }
  });
});
