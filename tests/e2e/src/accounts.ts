/**
 * Accounts for the whole-platform tests: register one through command-api's `POST /auth/register` and sign a
 * Chromium page in as it (the web app's session is the HttpOnly refresh cookie, restored on every page load: see
 * apps/web/src/lib/session.svelte.ts and docs/contracts.md "Sessions").
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';

/** A registered account, its access token (15 min) and where it was registered. */
export interface TestAccount {
  id: string;
  username: string;
  token: string;
  /** command-api's URL (sign-ins of pages go there). */
  commandApiUrl: string;
}

/** The password of every test account. */
export const TEST_PASSWORD = 'a long enough password';

/**
 * Registers `username` with a fixed valid password at `commandApiUrl` (e.g. `env.platform.urls.commandApi`).
 * @throws {AssertionError} when command-api does not answer 201 (the message holds the response body).
 */
export async function registerAccount(commandApiUrl: string, username: string): Promise<TestAccount> {
  const res = await fetch(`${commandApiUrl}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: TEST_PASSWORD }),
  });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  const body = JSON.parse(text) as { token: string; account: { id: string; username: string } };
  return { ...body.account, token: body.token, commandApiUrl };
}

/**
 * Logs `account` in through `POST /auth/login` (a new session of its own).
 * @returns the refresh token of the reply's cookie.
 */
export async function loginRefreshToken(account: TestAccount): Promise<string> {
  const res = await fetch(`${account.commandApiUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: account.username, password: TEST_PASSWORD }),
  });
  assert.equal(res.status, 200, await res.text());
  const value = /^eventcast_refresh=([^;]*)/.exec(res.headers.getSetCookie().find((c) => c.startsWith('eventcast_refresh=')) ?? '')?.[1];
  assert.ok(value, 'login sets the refresh cookie');
  return decodeURIComponent(value);
}

/**
 * Signs `page`'s browser context in as `account` the way a login does: a new session ({@link loginRefreshToken}) whose
 * HttpOnly refresh cookie is put in the context for command-api's host; the web app restores the session from it on
 * the next navigation. Each call starts its own session, so pages in different contexts never share (and so never
 * reuse) a refresh token.
 */
export async function signInPage(page: Page, account: TestAccount): Promise<void> {
  const value = await loginRefreshToken(account);
  await page.context().addCookies([{ name: 'eventcast_refresh', value: encodeURIComponent(value), url: account.commandApiUrl, httpOnly: true, sameSite: 'Strict' }]);
}

/**
 * Opens a new page in `browser` signed in as `account`: puts a new session's cookie in its context
 * ({@link signInPage}), then loads `path` (e.g. `/dashboard`) of the web app at `webUrl` (e.g. `env.platform.urls.web`).
 */
export async function openPageAs(browser: Browser, webUrl: string, account: TestAccount, path: string): Promise<Page> {
  const page = await browser.newPage();
  await signInPage(page, account);
  await page.goto(`${webUrl}${path}`);
  return page;
}
