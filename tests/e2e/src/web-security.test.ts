/**
 * Issue 9, items 7 and 9 (first bullet), on the whole platform with real parts:
 * - the web app's security headers (Content-Security-Policy from SvelteKit's CSP mode, without 'unsafe-inline' for
 *   scripts; frame-ancestors 'none'; nosniff; Referrer-Policy) and the built app still working under that policy in
 *   Chromium (any CSP violation fails the test);
 * - read-your-writes on the channel page: a page open BEFORE the streamer goes live shows LIVE from the pushed
 *   `BroadcastStarted`, never falls back to "Offline", and plays within 2 s of the first HLS segment;
 * - `/metrics` of every app refused without `METRICS_TOKEN` when one is configured.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { registerAccount, signInPage, type TestAccount } from './accounts.js';
import { eventually, launchChromium, publishTestStream, startE2ePlatform, type E2eEnv } from './harness.js';

const METRICS_TOKEN = 'e2e-metrics-token-0123456789abcdef';

/** `Content-Security-Policy` as a map of directive → sources. */
function parseCsp(header: string | null): Map<string, string[]> {
  assert.ok(header, 'a Content-Security-Policy header');
  const out = new Map<string, string[]>();
  for (const d of header.split(';')) {
    const [name, ...sources] = d.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), sources);
  }
  return out;
}

const origin = (url: string): string => new URL(url).origin.replace(/^http/, new URL(url).protocol.startsWith('ws') ? 'ws' : 'http');

/** Records CSP violations of `page` (the DOM event, and Chromium's console errors about the policy). */
async function watchCsp(page: Page): Promise<string[]> {
  const violations: string[] = [];
  await page.exposeFunction('__cspViolation', (v: string) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      void (window as unknown as { __cspViolation(v: string): void }).__cspViolation(`${e.violatedDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  return violations;
}

describe('the web app defends itself, and an open channel page follows the go-live', () => {
  let env: E2eEnv;
  let browser: Browser;
  const run = Date.now().toString(36).slice(-6);
  let owner: TestAccount;

  before(async () => {
    env = await startE2ePlatform({ logLevel: 'warn', env: { METRICS_TOKEN } });
    browser = await launchChromium();
    owner = await registerAccount(env.platform.urls.commandApi, `ws_own_${run}`);
  });

  after(async () => {
    await browser?.close();
    await env?.dispose();
  });

  it('every page carries CSP (nonce, no unsafe-inline script), frame-ancestors none, nosniff and Referrer-Policy', async () => {
    const u = env.platform.urls;
    for (const path of ['/', '/login', '/signup', '/dashboard', '/admin', `/${owner.username}`, `/no_such_${run}`]) {
      const res = await fetch(`${u.web}${path}`);
      const html = await res.text();
      assert.ok(res.status === 200, `${path}: ${res.status}`);
      const csp = parseCsp(res.headers.get('content-security-policy'));
      const script = csp.get('script-src') ?? [];
      assert.ok(script.includes("'self'"), `${path} script-src ${script.join(' ')}`);
      assert.ok(!script.includes("'unsafe-inline'") && !script.includes("'unsafe-eval'"), `${path}: no unsafe script sources`);
      const nonce = script.find((s) => /^'nonce-[A-Za-z0-9+/=]+'$/.test(s));
      assert.ok(nonce, `${path}: a nonce for SvelteKit's bootstrap script`);
      // Every inline script of the page carries that nonce.
      const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)([^>]*)>/g)].map((m) => m[1] ?? '');
      assert.ok(inline.length > 0 && inline.every((attrs) => attrs.includes(`nonce="${nonce.slice(7, -1)}"`)), `${path}: inline scripts carry the nonce`);
      assert.deepEqual(csp.get('frame-ancestors'), ["'none'"], path);
      assert.deepEqual(csp.get('object-src'), ["'none'"], path);
      assert.deepEqual(csp.get('default-src'), ["'self'"], path);
      const connect = csp.get('connect-src') ?? [];
      for (const o of [origin(u.commandApi), origin(u.queryApi), origin(u.realtime), origin(u.hls)]) assert.ok(connect.includes(o), `${path}: connect-src has ${o} (${connect.join(' ')})`);
      const media = csp.get('media-src') ?? [];
      assert.ok(media.includes('blob:') && media.includes(origin(u.hls)), `${path}: media-src ${media.join(' ')}`);
      assert.ok((csp.get('img-src') ?? []).includes(origin(u.queryApi)), `${path}: emotes from query-api`);
      assert.ok((csp.get('img-src') ?? []).includes(origin(u.hls)), `${path}: channel thumbnails from the HLS origin`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('referrer-policy'), 'strict-origin-when-cross-origin', path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
    }
    const first = parseCsp((await fetch(`${u.web}/`)).headers.get('content-security-policy')).get('script-src');
    const second = parseCsp((await fetch(`${u.web}/`)).headers.get('content-security-policy')).get('script-src');
    assert.notDeepEqual(first, second, 'a fresh nonce per response');
  });

  it('the built app works under its policy in Chromium: sign up, dashboard, channel page, no violation', async () => {
    const page = await browser.newPage();
    const violations = await watchCsp(page);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${env.platform.urls.web}/`);
    await page.goto(`${env.platform.urls.web}/signup`);
    await page.fill('input[name="username"]', `ws_new_${run}`);
    await page.fill('input[name="password"]', 'correct horse battery');
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/dashboard/, { timeout: 20_000 });
    await page.getByTestId('reveal-key').click();
    await eventually('the revealed stream key', async () => /^ec_/.test((await page.getByTestId('stream-key').textContent())?.trim() ?? ''));
    await page.goto(`${env.platform.urls.web}/${owner.username}`);
    await page.getByTestId('live-status').filter({ hasText: 'Offline' }).waitFor({ timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(violations, [], 'no Content-Security-Policy violation');
    assert.deepEqual(errors, [], 'no uncaught page error');
    await page.close();
  });

  it('a channel page open before go-live shows LIVE, never falls back to Offline, and plays within 2 s of the first segment', async (t) => {
    const u = env.platform.urls;
    const page = await browser.newPage();
    const violations = await watchCsp(page);
    await page.goto(`${u.web}/`);
    await signInPage(page, owner);
    await page.addInitScript(() => {
      const w = window as unknown as { __firstPlaying?: number; __statuses: string[] };
      w.__statuses = [];
      document.addEventListener('playing', () => (w.__firstPlaying ??= Date.now()), true);
      // Every text the live badge shows, in order (sampled every 20 ms).
      setInterval(() => {
        const t = document.querySelector('[data-testid="live-status"]')?.textContent?.trim();
        if (t && w.__statuses.at(-1) !== t) w.__statuses.push(t);
      }, 20);
    });
    await page.goto(`${u.web}/${owner.username}`);
    await page.getByTestId('live-status').filter({ hasText: 'Offline' }).waitFor({ timeout: 20_000 });

    const keyRes = await fetch(`${u.commandApi}/me/stream-key`, { headers: { authorization: `Bearer ${owner.token}` } });
    const { streamKey } = (await keyRes.json()) as { streamKey: string };
    const publisher = publishTestStream(`${u.rtmp}/${streamKey}`);
    try {
      // The first segment exists once the media playlist lists one.
      const playlist = `${u.hls}/hls/${owner.username}/index.m3u8`;
      let firstSegmentAt = 0;
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const res = await fetch(playlist, { cache: 'no-store' }).catch(() => null);
        if (res?.ok && (await res.text()).includes('#EXTINF')) {
          firstSegmentAt = Date.now();
          break;
        }
        await res?.body?.cancel().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(firstSegmentAt > 0, 'the first segment was written');
      const firstPlaying = await eventually('the first frame', () => page.evaluate(() => (window as unknown as { __firstPlaying?: number }).__firstPlaying ?? null), 20_000);
      const delay = firstPlaying - firstSegmentAt;
      t.diagnostic(`first frame ${delay} ms after the first segment was listed`);
      assert.ok(delay <= 2_000, `first frame ${delay} ms after the first segment (target ≤ 2000 ms)`);
      const statuses = await page.evaluate(() => (window as unknown as { __statuses: string[] }).__statuses);
      assert.deepEqual(statuses, ['Offline', 'LIVE'], `the badge went ${statuses.join(' → ')}`);
    } finally {
      await publisher.stop();
    }
    await page.getByTestId('live-status').filter({ hasText: 'Offline' }).waitFor({ timeout: 30_000 });
    assert.deepEqual(violations, [], 'no Content-Security-Policy violation while playing');
    await page.close();
  });

  it('/metrics of every app is refused without METRICS_TOKEN and served with it', async () => {
    const u = env.platform.urls;
    const realtimeHttp = u.realtime.replace(/^ws/, 'http').replace(/\/ws$/, '');
    for (const url of [`${u.commandApi}/metrics`, `${u.queryApi}/metrics`, `${realtimeHttp}/metrics`, `${u.hls}/metrics`, `${u.web}/-/metrics`]) {
      const none = await fetch(url);
      assert.equal(none.status, 401, `${url} without a token`);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/, url);
      assert.ok(!(await none.text()).includes('eventcast_app_info'), `${url}: nothing leaks`);
      assert.equal((await fetch(url, { headers: { authorization: 'Bearer not-the-token-at-all-000' } })).status, 401, `${url} with a wrong token`);
      const ok = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      assert.equal(ok.status, 200, `${url} with the token`);
      assert.match(await ok.text(), /eventcast_app_info/, url);
    }
  });
});
