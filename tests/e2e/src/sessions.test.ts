/**
 * Sessions in Chromium (issue 13 item 1; docs/contracts.md "Sessions"): sign-up in the web app keeps no token in
 * web storage, only the HttpOnly refresh cookie; a reload restores the session by rotating that cookie; the access token
 * (30 s on this platform) is refreshed before it expires while the page stays open, and the realtime edge takes the
 * new one (chat still sends); a rotated-out refresh token put back into the browser (a stolen copy) revokes the
 * session for everyone holding it; tabs reloading at once do not trip reuse detection; logout ends the session on
 * the server; "log out on all devices" signs out another browser.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loginRefreshToken, registerAccount, TEST_PASSWORD, type TestAccount } from './accounts.js';
import { eventually, launchChromium, startE2ePlatform, type E2eEnv } from './harness.js';

const COOKIE = 'eventcast_refresh';

describe('sessions: refresh-token rotation in the browser', () => {
  let env: E2eEnv;
  let browser: Browser;
  let owner: TestAccount;
  const run = Date.now().toString(36).slice(-5);
  const web = () => env.platform.urls.web;

  before(async () => {
    // Short access tokens, so the test sees the page refresh one by itself.
    env = await startE2ePlatform({ logLevel: 'warn', env: { AUTH_ACCESS_TOKEN_TTL_SECONDS: '30' } });
    browser = await launchChromium();
    owner = await registerAccount(env.platform.urls.commandApi, `ss${run}_own`);
  });

  after(async () => {
    await browser?.close();
    await env?.dispose();
  });

  const refreshCookie = async (ctx: BrowserContext) => (await ctx.cookies(env.platform.urls.commandApi)).find((c) => c.name === COOKIE);
  const setRefreshCookie = (ctx: BrowserContext, value: string) =>
    ctx.addCookies([{ name: COOKIE, value, url: env.platform.urls.commandApi, httpOnly: true, sameSite: 'Strict' }]);
  const signedInAs = (page: Page, username: string) => page.getByTestId('header-user').filter({ hasText: username }).waitFor({ timeout: 15_000 });
  const signedOut = (page: Page) => page.getByRole('link', { name: 'Log in' }).waitFor({ timeout: 15_000 });
  const refreshWith = (value: string) =>
    fetch(`${env.platform.urls.commandApi}/auth/refresh`, { method: 'POST', headers: { cookie: `${COOKIE}=${value}` } }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string } }));

  it('signs up with only an HttpOnly cookie, survives a reload by rotating it, keeps its token fresh and chats', async () => {
    const page = await browser.newPage();
    try {
      const name = `ss${run}_new`;
      await page.goto(`${web()}/signup`);
      await page.locator('#username').fill(name);
      await page.locator('#password').fill(TEST_PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).click();
      await signedInAs(page, name);
      const first = await refreshCookie(page.context());
      assert.ok(first, 'the refresh cookie is set');
      assert.equal(first.httpOnly, true);
      assert.equal(first.sameSite, 'Strict');
      const storage = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
      assert.doesNotMatch(storage, /eyJ[A-Za-z0-9_-]+\.eyJ/, 'no JWT in web storage');
      assert.equal(await page.evaluate(() => document.cookie.includes('eventcast_refresh')), false, 'page scripts cannot read the cookie');

      await page.reload();
      await signedInAs(page, name);
      const second = await refreshCookie(page.context());
      assert.notEqual(second?.value, first.value, 'the reload rotated the refresh token');

      // The 30-s access token is refreshed by the page itself (5 s after it was issued at the earliest): no reload.
      await page.goto(`${web()}/${owner.username}`);
      await page.getByText(`Chatting as ${name}`).waitFor({ timeout: 15_000 });
      const before = (await refreshCookie(page.context()))?.value;
      await eventually('the page to refresh its access token by itself', async () => (await refreshCookie(page.context()))?.value !== before, 30_000);
      await page.waitForTimeout(32_000); // past the first access token's expiry
      const text = `still signed in ${run}`;
      await page.getByTestId('chat-input').fill(text);
      await page.getByTestId('chat-input').press('Enter');
      await page.getByTestId('chat-message').filter({ hasText: text }).waitFor({ timeout: 15_000 });
      assert.equal((await page.getByTestId('chat-error').textContent())?.trim(), '', 'the edge took the refreshed token');
    } finally {
      await page.close();
    }
  });

  it('a rotated-out refresh token put back into the browser revokes the session, for the legitimate holder too', async () => {
    const page = await browser.newPage();
    try {
      const stolen = await loginRefreshToken(owner);
      await setRefreshCookie(page.context(), stolen);
      await page.goto(`${web()}/dashboard`);
      await signedInAs(page, owner.username);
      const once = (await refreshCookie(page.context()))!.value;
      assert.notEqual(once, stolen, 'loading the page rotated the token');
      await page.reload();
      await signedInAs(page, owner.username);
      const current = (await refreshCookie(page.context()))!.value;
      assert.notEqual(current, once, 'and the reload again');
      // An attacker replays the copy taken two rotations ago (the one just rotated out would still get a grace of 30 s,
      // as a lost reply): refused as reused…
      const replay = await refreshWith(stolen);
      assert.deepEqual([replay.status, replay.body.code], [401, 'refresh_token_reused']);
      // …and the browser holding the current token is signed out at its next refresh.
      await page.reload();
      await page.waitForURL(/\/login/, { timeout: 15_000 });
      await signedOut(page);
      assert.equal((await refreshWith(current)).body.code, 'session_ended');
    } finally {
      await page.close();
    }
  });

  it('tabs of one browser reloading at once share the session without tripping reuse detection', async () => {
    const ctx = await browser.newContext();
    try {
      await setRefreshCookie(ctx, await loginRefreshToken(owner));
      const pages = await Promise.all([0, 1, 2].map(() => ctx.newPage()));
      await Promise.all(pages.map((p) => p.goto(`${web()}/dashboard`)));
      await Promise.all(pages.map((p) => signedInAs(p, owner.username)));
      await Promise.all(pages.map((p) => p.reload()));
      await Promise.all(pages.map((p) => signedInAs(p, owner.username)));
      const last = (await refreshCookie(ctx))!.value;
      const ok = await refreshWith(last);
      assert.equal(ok.status, 200, `the session is intact: ${JSON.stringify(ok.body)}`);
    } finally {
      await ctx.close();
    }
  });

  it('logout ends the session on the server; "log out on all devices" signs out another browser', async () => {
    const a = await browser.newPage();
    const b = await browser.newPage();
    try {
      await setRefreshCookie(a.context(), await loginRefreshToken(owner));
      await a.goto(`${web()}/dashboard`);
      await signedInAs(a, owner.username);
      const held = (await refreshCookie(a.context()))!.value;
      await a.getByTestId('logout').click();
      await signedOut(a);
      await eventually('the logout to clear the cookie', async () => (await refreshCookie(a.context())) === undefined, 10_000);
      assert.equal((await refreshWith(held)).body.code, 'session_ended', 'the logged-out token is refused at once');

      await setRefreshCookie(a.context(), await loginRefreshToken(owner));
      await setRefreshCookie(b.context(), await loginRefreshToken(owner));
      await a.goto(`${web()}/dashboard`);
      await b.goto(`${web()}/dashboard`);
      await signedInAs(a, owner.username);
      await signedInAs(b, owner.username);
      const bToken = (await refreshCookie(b.context()))!.value;
      await a.getByTestId('logout-everywhere').click();
      await a.waitForURL(/\/login/, { timeout: 15_000 });
      assert.equal((await refreshWith(bToken)).body.code, 'session_revoked', "the other browser's session is refused");
      await b.reload();
      await b.waitForURL(/\/login/, { timeout: 15_000 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('changing the password in the dashboard keeps this browser signed in and signs out another one', async () => {
    const who = await registerAccount(env.platform.urls.commandApi, `ss${run}_pw`);
    const a = await browser.newPage();
    const b = await browser.newPage();
    try {
      await setRefreshCookie(a.context(), await loginRefreshToken(who));
      await setRefreshCookie(b.context(), await loginRefreshToken(who));
      await a.goto(`${web()}/dashboard`);
      await b.goto(`${web()}/dashboard`);
      await signedInAs(a, who.username);
      await signedInAs(b, who.username);
      await a.getByTestId('current-password').fill('not my password');
      await a.getByTestId('new-password').fill('a new long password');
      await a.getByTestId('change-password').click();
      await a.getByText('The current password is wrong.').waitFor({ timeout: 10_000 });
      await a.getByTestId('current-password').fill(TEST_PASSWORD);
      await a.getByTestId('change-password').click();
      await a.getByTestId('password-saved').waitFor({ timeout: 10_000 });
      await a.reload();
      await signedInAs(a, who.username);
      await b.reload();
      await b.waitForURL(/\/login/, { timeout: 15_000 });
      const login = (password: string) =>
        fetch(`${env.platform.urls.commandApi}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: who.username, password }) });
      assert.equal((await login(TEST_PASSWORD)).status, 401, 'the old password is refused');
      assert.equal((await login('a new long password')).status, 200);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
