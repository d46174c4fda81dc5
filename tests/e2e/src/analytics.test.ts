/**
 * Analytics end to end: a channel goes live from ffmpeg, viewers watch through TWO realtime edges (the platform's and
 * a second edge process on the same NATS and Redis), one sampler per channel per period records the summed viewer
 * counts through the command side, unique viewers count a guest browser once across edges; the query-api analytics
 * show them, and the analytics page renders the table and charts in Chromium.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createEventStore, type EventStore } from '@eventcast/event-store';
import { freePort, waitForPort } from '@eventcast/launcher';
import { loadConfig } from '@eventcast/platform';
import { openPageAs, registerAccount, signInPage, type TestAccount } from './accounts.js';
import { eventually, launchChromium, publishTestStream, ROOT, startE2ePlatform, type E2eEnv, type Publisher } from './harness.js';
import { connectEdge, type EdgeClient } from './ws-client.js';

interface Overview {
  broadcasts: { broadcastId: string; live: boolean; peakViewers: number; uniqueViewers: number; samples: number; messages: number; endedAt: string | null }[];
}

const SAMPLE_SECONDS = 2;

describe('analytics from two edges to the analytics page', () => {
  let env: E2eEnv;
  let store: EventStore;
  let edgeB: ChildProcess;
  let edgeBUrl = '';
  let publisher: Publisher | undefined;
  let browser: Browser | undefined;
  const clients: EdgeClient[] = [];
  const run = Date.now().toString(36).slice(-6);
  const jwtSecret = randomBytes(32).toString('hex');
  let alice: TestAccount;
  let bob: TestAccount;
  let broadcastId = '';

  const register = (username: string) => registerAccount(env.platform.urls.commandApi, username);
  const analytics = async (path: string, who: TestAccount) => {
    const res = await fetch(`${env.platform.urls.queryApi}${path}`, { headers: { authorization: `Bearer ${who.token}` } });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  async function watch(edgeUrl: string, sid: string, who?: TestAccount): Promise<EdgeClient> {
    const q = new URLSearchParams({ sid, ...(who ? { token: who.token } : {}) });
    const c = await connectEdge(`${edgeUrl}?${q}`);
    clients.push(c);
    if (who) await c.next((f) => f.type === 'authenticated');
    await c.request({ type: 'subscribe', channel: alice.username }, (f) => f.type === 'subscribed');
    return c;
  }

  before(async () => {
    env = await startE2ePlatform({ logLevel: 'warn', env: { JWT_SECRET: jwtSecret, REALTIME_VIEWER_SAMPLE_SECONDS: String(SAMPLE_SECONDS) } });
    store = await createEventStore(loadConfig({ DATABASE_URL: env.db.url }));
    const port = await freePort();
    edgeB = spawn(process.execPath, ['dist/main.js'], {
      cwd: join(ROOT, 'apps/realtime'),
      env: {
        ...process.env,
        ...env.nats.envFor('realtime'),
        JWT_SECRET: jwtSecret,
        REALTIME_PORT: String(port),
        HOST: '127.0.0.1',
        REALTIME_VIEWER_SAMPLE_SECONDS: String(SAMPLE_SECONDS),
        REALTIME_CONNECTIONS_PER_IP_PER_10S: '1000',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitForPort(port);
    edgeBUrl = `ws://127.0.0.1:${port}/ws`;
    alice = await register(`an_alice_${run}`);
    bob = await register(`an_bob_${run}`);
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await publisher?.stop();
    await browser?.close();
    if (edgeB && edgeB.exitCode === null) {
      edgeB.kill('SIGTERM');
      await new Promise((r) => edgeB.once('exit', r));
    }
    await store?.close();
    await env?.dispose();
  });

  it('samples the summed viewers once per period and counts unique viewers across edges', async () => {
    const keyRes = await fetch(`${env.platform.urls.commandApi}/me/stream-key`, { headers: { authorization: `Bearer ${alice.token}` } });
    const { streamKey } = (await keyRes.json()) as { streamKey: string };
    // Viewers waiting before the broadcast starts are counted once it does.
    const sidA = 'e2e-guest-session-aaaaaaaa';
    await watch(env.platform.urls.realtime, sidA);
    await watch(env.platform.urls.realtime, 'e2e-guest-session-bbbbbbbb');
    await watch(edgeBUrl, sidA); // the same browser session on the other edge: one unique viewer
    const bobSocket = await watch(edgeBUrl, 'e2e-guest-session-cccccccc', bob);

    publisher = publishTestStream(`${env.platform.urls.rtmp}/${streamKey}`);
    broadcastId = await eventually(
      'the broadcast in the analytics',
      async () => {
        const r = await analytics(`/analytics/channels/${alice.username}`, alice);
        return (r.body as Overview).broadcasts?.[0]?.broadcastId ?? null;
      },
      30_000,
    );
    const ack = await bobSocket.request({ type: 'chat.send', channel: alice.username, text: 'hello analytics', nonce: 'n1' }, (f) => f.type === 'chat.ack' || f.type === 'error');
    assert.equal(ack.type, 'chat.ack', JSON.stringify(ack));

    const b = await eventually(
      'four concurrent and three unique viewers with several samples',
      async () => {
        const r = await analytics(`/analytics/channels/${alice.username}`, alice);
        const first = (r.body as Overview).broadcasts?.[0];
        return first && first.uniqueViewers === 3 && first.peakViewers === 4 && first.samples >= 3 && first.messages === 1 ? first : null;
      },
      40_000,
    );
    assert.equal(b.live, true);

    const samples = (await store.readAll({ eventTypes: ['BroadcastViewersSampled'], limit: 10_000 })).map((e) => e.data as { broadcastId: string; viewers: number; sampledAt: string; intervalSeconds: number });
    const ours = samples.filter((s) => s.broadcastId === broadcastId);
    const periods = ours.map((s) => Math.floor(Date.parse(s.sampledAt) / (SAMPLE_SECONDS * 1000)));
    assert.equal(new Set(periods).size, periods.length, `one sample per period with two edges sampling: ${JSON.stringify(ours.map((s) => s.sampledAt))}`);
    assert.ok(ours.every((s) => s.intervalSeconds === SAMPLE_SECONDS));
    assert.ok(ours.some((s) => s.viewers === 4), 'a sample sums both edges');
    const joins = (await store.readAll({ eventTypes: ['ViewerJoinedBroadcast'], limit: 10_000 })).map((e) => e.data as { viewerKey: string });
    assert.equal(joins.length, 3);
    assert.ok(joins.some((j) => j.viewerKey === `account:${bob.id}`));
    const raw = JSON.stringify(joins);
    assert.ok(!raw.includes(sidA) && !raw.includes('127.0.0.1'), 'no session id or IP address in the events');
  });

  it('shows the analytics page with the broadcast table, charts and a broadcast detail in Chromium', async () => {
    browser = await launchChromium();
    const page = await openPageAs(browser, env.platform.urls.web, alice, '/dashboard');
    await page.getByTestId('analytics-link').click();
    await page.waitForURL(/\/dashboard\/analytics/);
    await page.getByTestId('broadcast-table').locator('tbody tr').first().waitFor({ timeout: 20_000 });
    await page.getByTestId('daily-chart').locator('canvas').waitFor();
    const canvasWidth = await page.getByTestId('daily-chart').locator('canvas').evaluate((c) => (c as HTMLCanvasElement).width);
    assert.ok(canvasWidth > 0, 'the chart is drawn');
    await page.getByTestId('broadcast-table').locator('tbody tr a').first().click();
    await page.getByTestId('viewers-chart').locator('canvas').waitFor({ timeout: 20_000 });
    await page.getByTestId('top-chatters').filter({ hasText: bob.username }).waitFor();

    // Another user gets the reason in words, not a blank page.
    await signInPage(page, bob);
    await page.goto(`${env.platform.urls.web}/dashboard/analytics?channel=${alice.username}`);
    const error = await page.getByTestId('analytics-error').textContent({ timeout: 20_000 });
    assert.match(error ?? '', /only the channel's owner or a platform admin/);
    await page.close();
  });

  it('ends the broadcast with its duration', async () => {
    await publisher?.stop();
    publisher = undefined;
    const ended = await eventually(
      'the ended broadcast',
      async () => {
        const r = await analytics(`/analytics/channels/${alice.username}`, alice);
        const first = (r.body as Overview).broadcasts?.[0];
        return first?.endedAt ? first : null;
      },
      30_000,
    );
    assert.equal(ended.live, false);
    const csv = await fetch(`${env.platform.urls.queryApi}/analytics/channels/${alice.username}/broadcasts.csv`, { headers: { authorization: `Bearer ${alice.token}` } });
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    assert.equal((await csv.text()).split('\r\n').length, 3, 'header, one broadcast, final CRLF');
  });
});
