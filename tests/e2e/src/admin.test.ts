/**
 * Admin pages end to end (issue 4 part 6): a channel goes live from ffmpeg (1 s keyframe interval); query-api's
 * `GET /admin/broadcasts` joins it with the real ingest's measured health (bitrate, fps, keyframe interval); `GET /me`
 * flags the admin; in Chromium the admin sees the header link and the three sections of `/admin` (projections,
 * live broadcasts with ingest health, audit trail), and a non-admin sees neither the link nor the data.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { adminBroadcastsSchema } from '@eventcast/contracts';
import { openPageAs, registerAccount, signInPage, type TestAccount } from './accounts.js';
import { eventually, launchChromium, publishTestStream, startE2ePlatform, type E2eEnv, type Publisher } from './harness.js';

describe('admin pages', () => {
  let env: E2eEnv;
  let publisher: Publisher | undefined;
  let browser: Browser | undefined;
  const run = Date.now().toString(36).slice(-6);
  let root: TestAccount;
  let alice: TestAccount;

  const register = (username: string) => registerAccount(env.platform.urls.commandApi, username);

  before(async () => {
    env = await startE2ePlatform({ logLevel: 'warn', env: { EVENTCAST_ADMINS: `ad_root_${run}` } });
    root = await register(`ad_root_${run}`);
    alice = await register(`ad_alice_${run}`);
  });

  after(async () => {
    await publisher?.stop();
    await browser?.close();
    await env?.dispose();
  });

  it('GET /me flags the admin; /admin/broadcasts joins the live broadcast with the real ingest health', async () => {
    const me = async (a: TestAccount) => ((await (await fetch(`${env.platform.urls.commandApi}/me`, { headers: { authorization: `Bearer ${a.token}` } })).json()) as { admin: boolean }).admin;
    assert.equal(await me(root), true);
    assert.equal(await me(alice), false);
    assert.equal((await fetch(`${env.platform.urls.queryApi}/admin/broadcasts`, { headers: { authorization: `Bearer ${alice.token}` } })).status, 403);

    const keyRes = await fetch(`${env.platform.urls.commandApi}/me/stream-key`, { headers: { authorization: `Bearer ${alice.token}` } });
    const { streamKey } = (await keyRes.json()) as { streamKey: string };
    publisher = publishTestStream(`${env.platform.urls.rtmp}/${streamKey}`);
    const b = await eventually(
      'the live broadcast with a full ingest measurement',
      async () => {
        const res = await fetch(`${env.platform.urls.queryApi}/admin/broadcasts`, { headers: { authorization: `Bearer ${root.token}` } });
        // The contract's shape (what the web reads), parsed: a drift of query-api or the ingest fails here.
        const body = adminBroadcastsSchema.parse(await res.json());
        const ours = body.broadcasts.find((x) => x.username === alice.username);
        const input = ours?.health?.input;
        return input && input.bitrateKbps !== null && input.fps !== null && input.keyframeIntervalSeconds !== null ? { ours, input, ingest: body.ingest } : null;
      },
      40_000,
    );
    assert.ok(b.input.bitrateKbps! > 100, `bitrate ${b.input.bitrateKbps}`);
    assert.ok(Math.abs(b.input.fps! - 30) < 1.5, `fps ${b.input.fps}`);
    assert.ok(Math.abs(b.input.keyframeIntervalSeconds! - 1) < 0.15, `keyframe interval ${b.input.keyframeIntervalSeconds}`);
    assert.equal(b.ours?.healthNote, null);
    assert.deepEqual(b.ingest.map((n) => [n.reachable, n.error]), [[true, null]], 'the ingest node answered the contract');
    // A 1-s keyframe interval needs no fix: the source is copied, and the whole packager status reaches the web.
    assert.equal(b.ours?.health?.packager.mode, 'passthrough');
    assert.equal(b.ours?.health?.packager.modeReason, null);
    assert.ok((b.ours?.health?.packager.renditions ?? []).includes('source'));
  });

  it('shows the admin link and the three sections to the admin, "admins only" to others, in Chromium', async () => {
    browser = await launchChromium();
    const page = await openPageAs(browser, env.platform.urls.web, root, '/');
    await page.getByTestId('nav-admin').click({ timeout: 20_000 });
    await page.waitForURL(/\/admin$/);
    await page.getByTestId('projection-row').filter({ hasText: 'admin-audit' }).waitFor({ timeout: 20_000 });
    const projectionRows = await page.getByTestId('projection-row').count();
    assert.ok(projectionRows >= 10, `projection rows: ${projectionRows}`);
    const row = page.getByTestId('broadcast-row').filter({ hasText: alice.username });
    await row.waitFor({ timeout: 20_000 });
    const keyframe = await eventually('a measured keyframe interval on the page', async () => {
      const t = (await row.getByTestId('keyframe-interval').textContent())?.trim() ?? '';
      return /^1\.0 s/.test(t) ? t : null;
    });
    assert.doesNotMatch(keyframe, /over 4 s/);
    assert.match((await row.textContent()) ?? '', /kbit\/s/);
    await page.getByTestId('audit-row').filter({ hasText: 'account registered' }).first().waitFor({ timeout: 20_000 });
    await page.getByTestId('audit-row').filter({ hasText: 'stream key issued' }).first().waitFor();

    await signInPage(page, alice);
    await page.goto(`${env.platform.urls.web}/admin`);
    await page.getByTestId('admin-forbidden').waitFor({ timeout: 20_000 });
    assert.equal(await page.getByTestId('nav-admin').count(), 0, 'no admin link for a non-admin');
    assert.equal(await page.getByTestId('broadcast-row').count(), 0);
    await page.close();
  });
});
