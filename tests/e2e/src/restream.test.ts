/**
 * Issue 10 items 6 and 7 on the whole platform (real apps, authenticated NATS with per-app permissions, PostgreSQL,
 * ffmpeg, Chromium): the streamer publishes over RTMPS (self-signed pair made by the launcher's `ensureSelfSignedTls`)
 * with two restream targets — a second local RTMP server (ffmpeg `-listen 1`) and a dead one (closed port). The live
 * server receives the broadcast's video; the dead one is shown failed/retrying with the reason on the dashboard while
 * the channel's HLS and the other target keep working; the keys never reach the event store in clear, the NATS stream
 * or the logs; no app broke its NATS permissions (checked by `dispose`).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { RestreamTargetList, RestreamTargetView } from '@eventcast/contracts';
import { createEventStore } from '@eventcast/event-store';
import { ensureSelfSignedTls, freePort } from '@eventcast/launcher';
import { loadConfig } from '@eventcast/platform';
import { openPageAs, registerAccount, type TestAccount } from './accounts.js';
import { eventually, launchChromium, publishTestStream, startE2ePlatform, type E2eEnv } from './harness.js';

describe('RTMPS publish with restream targets, end to end', () => {
  let env: E2eEnv;
  let browser: Browser;
  let account: TestAccount;
  const work = mkdtempSync(join(tmpdir(), 'e2e-restream-'));
  const received = join(work, 'received.flv');
  const goodKey = `live_good_${randomBytes(10).toString('hex')}`;
  const deadKey = `live_dead_${randomBytes(10).toString('hex')}`;
  let goodPort = 0;
  let deadPort = 0;

  before(async () => {
    const tls = await ensureSelfSignedTls(work);
    goodPort = await freePort();
    deadPort = await freePort();
    env = await startE2ePlatform({
      env: {
        INGEST_TLS_CERT_FILE: tls.certFile,
        INGEST_TLS_KEY_FILE: tls.keyFile,
        RESTREAM_KEY_SECRET: randomBytes(32).toString('hex'),
        RESTREAM_ALLOW_PRIVATE_TARGETS: 'true',
        INGEST_RESTREAM_POLL_MS: '1000',
        INGEST_RESTREAM_RETRY_MIN_MS: '500',
        INGEST_RESTREAM_RETRY_MAX_MS: '1000',
      },
    });
    browser = await launchChromium();
    account = await registerAccount(env.platform.urls.commandApi, `rs_${Date.now().toString(36)}`);
  });
  after(async () => {
    await browser?.close();
    await env?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${env.platform.urls.commandApi}${path}`, {
      method,
      headers: { authorization: `Bearer ${account.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  };

  it('forwards the RTMPS broadcast to the live target; the dead target fails and retries, shown on the dashboard', async () => {
    const good = await api<RestreamTargetView>('POST', '/me/restream-targets', { name: 'Local', url: `rtmp://127.0.0.1:${goodPort}/live`, streamKey: goodKey });
    assert.equal(good.status, 201, JSON.stringify(good.body));
    const dead = await api<RestreamTargetView>('POST', '/me/restream-targets', { name: 'Dead', url: `rtmp://127.0.0.1:${deadPort}/live`, streamKey: deadKey });
    assert.equal(dead.status, 201, JSON.stringify(dead.body));
    const streamKey = (await api<{ streamKey: string; rtmpsUrl: string }>('GET', '/me/stream-key')).body;
    assert.equal(streamKey.rtmpsUrl, `rtmps://127.0.0.1:${env.platform.ports.rtmps}/live`);

    const server = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'flv', '-listen', '1', '-i', `rtmp://127.0.0.1:${goodPort}/live/${goodKey}`, '-c', 'copy', '-y', received], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const publisher = publishTestStream(`${streamKey.rtmpsUrl}/${streamKey.streamKey}`, { seconds: 25 });
    try {
      const queryList = async () => {
        const res = await fetch(`${env.platform.urls.queryApi}/me/restream-targets`, { headers: { authorization: `Bearer ${account.token}` } });
        return ((await res.json()) as RestreamTargetList).targets;
      };
      await eventually('the live target live and the dead one failing, in the read model', async () => {
        const t = await queryList();
        const g = t.find((x) => x.id === good.body.id)?.live?.state;
        const d = t.find((x) => x.id === dead.body.id)?.live?.state;
        return g === 'live' && (d === 'failed' || d === 'retrying');
      }, 40_000);

      // The channel's HLS keeps going.
      const hls = await eventually('HLS segments', async () => {
        const res = await fetch(`${env.platform.urls.hls}/hls/${account.username}/source.m3u8`);
        const text = res.ok ? await res.text() : '';
        return (text.match(/#EXTINF/g) ?? []).length >= 2 ? text : null;
      });
      assert.ok(hls.includes('#EXTINF'));

      // The dashboard shows both with their states, the dead one with its reason.
      const page = await openPageAs(browser, env.platform.urls.web, account, '/dashboard');
      const panel = page.getByTestId('restream-panel');
      await panel.getByTestId('restream-target').nth(1).waitFor({ timeout: 20_000 });
      await eventually('the states on the dashboard', async () => {
        const states = await panel.getByTestId('restream-state').allTextContents();
        return states.some((s) => s.startsWith('Live')) && states.some((s) => /^(Failed|Retrying): ./.test(s));
      });
      // The OBS guide offers the RTMPS server that command-api answered (the ingest has a certificate here).
      assert.equal(await page.getByTestId('rtmps-url').locator('code').textContent(), streamKey.rtmpsUrl);
      await page.close();
      assert.equal(publisher.child.exitCode, null, 'the publisher is still streaming');
    } finally {
      await publisher.stop();
      await new Promise((r) => setTimeout(r, 2000));
      if (server.exitCode === null) server.kill('SIGKILL');
    }

    const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', received], { encoding: 'utf8' });
    const stream = (JSON.parse(probe.stdout || '{}') as { streams?: { codec_name?: string; nb_read_frames?: string }[] }).streams?.[0];
    assert.equal(stream?.codec_name, 'h264', probe.stderr);
    assert.ok(Number(stream?.nb_read_frames) >= 30, `video frames at the restream target: ${stream?.nb_read_frames}`);

    // Keys: not in clear in the event store, nowhere in the logs.
    const store = await createEventStore(loadConfig({ DATABASE_URL: env.db.url }));
    const events = await store.readAll({ limit: 100_000 }).finally(() => store.close());
    const dump = JSON.stringify(events, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    assert.ok(events.some((e) => e.type === 'RestreamTargetStateChanged'), 'the state changes are events');
    for (const k of [goodKey, deadKey]) {
      assert.ok(!dump.includes(k), 'a restream key in clear in the event store');
      for (const f of readdirSync(env.logDir)) assert.ok(!readFileSync(join(env.logDir, f), 'utf8').includes(k), `a restream key in ${f}`);
    }
  });
});
