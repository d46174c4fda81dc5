/**
 * Accounts for the whole-platform tests: register one through command-api's `POST /auth/register` and sign a
 * Chromium page in as it (the web app keeps its session in `localStorage['eventcast.session']`, see
 * apps/web/src/lib/session.svelte.ts).
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';

/** A registered account and its bearer JWT. */
export interface TestAccount {
  id: string;
  username: string;
  token: string;
}

/**
 * Registers `username` with a fixed valid password at `commandApiUrl` (e.g. `env.platform.urls.commandApi`).
 * @throws {AssertionError} when command-api does not answer 201 (the message holds the response body).
 */
export async function registerAccount(commandApiUrl: string, username: string): Promise<TestAccount> {
  const res = await fetch(`${commandApiUrl}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'a long enough password' }),
  });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  const body = JSON.parse(text) as { token: string; account: { id: string; username: string } };
  return { ...body.account, token: body.token };
}

/**
 * Stores `account`'s session in the page's localStorage, as the web app's login does; the page must already be on
 * the web app's origin, and the app reads the session on the next navigation.
 */
export async function signInPage(page: Page, account: TestAccount): Promise<void> {
  const session = JSON.stringify({ token: account.token, account: { id: account.id, username: account.username } });
  await page.evaluate((s) => localStorage.setItem('eventcast.session', s), session);
}

/**
 * Opens a new page in `browser` signed in as `account`: loads the web app at `webUrl` (e.g.
 * `env.platform.urls.web`), stores the session ({@link signInPage}) and navigates to `path` (e.g. `/dashboard`).
 */
export async function openPageAs(browser: Browser, webUrl: string, account: TestAccount, path: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${webUrl}/`);
  await signInPage(page, account);
  await page.goto(`${webUrl}${path}`);
  return page;
}
