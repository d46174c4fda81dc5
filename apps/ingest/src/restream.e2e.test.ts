/**
 * Restream / simulcast (issue 10 item 7) against a real ingest process, real ffmpeg and NATS; the command side is the
 * fake of the other ingest tests, answering `ingest.restream-targets` with keys sealed under the run's
 * RESTREAM_KEY_SECRET (as command-api does).
 * - a second local RTMP server (ffmpeg `-listen 1`, writing what it receives to a file) receives the broadcast: the
 *   file holds H.264 video frames;
 * - a dead target (a closed port) is reported failed with the reason, then retrying, again and again, while the HLS
 *   playlist of the main broadcast and the other target keep going;
 * - disabling a target while live stops it (`stopped`), and every target is stopped with the broadcast;
 * - neither target key appears in the ingest's log lines nor in any request the ingest sent over NATS.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RestreamTargetForIngest } from '@eventcast/contracts';
import { CommandPatterns } from '@eventcast/events';
import { encryptSecret, generateStreamKey } from '@eventcast/platform';
import { freePort, publishTestStream, rawRequest, waitUntil } from './test-support/harness.js';
import { provesKey, singleChannelHandlers, startIngestRun, testSubjectPrefix, type IngestRun } from './test-support/ingest-run.js';

const channelId = randomUUID();
const username = `r_${randomBytes(4).toString('hex')}`;
const streamKey = generateStreamKey(channelId);
const transportKey = randomBytes(32).toString('hex');
const goodKey = `live_good_${randomBytes(12).toString('hex')}`;
const deadKey = `live_dead_${randomBytes(12).toString('hex')}`;
const goodId = randomUUID();
const deadId = randomUUID();
let rotatedKey: string | null = null;
/** How long the fake command side takes to answer `ingest.broadcast-start` (ms). */
let broadcastStartDelayMs = 0;

/** A target as the command side would hand it to the ingest. */
function target(targetId: string, name: string, url: string, key: string): RestreamTargetForIngest {
  return { targetId, name, url, keySealed: encryptSecret(key, transportKey) };
}

void describe('restream (real ingest, ffmpeg and NATS)', { timeout: 90_000 }, () => {
  let run: IngestRun;
  let goodPort = 0;
  let deadPort = 0;
  let enabled: RestreamTargetForIngest[] = [];
  const received = path.join(tmpdir(), `restream-recv-${randomBytes(4).toString('hex')}.flv`);

  before(async () => {
    goodPort = await freePort();
    deadPort = await freePort(); // bound then released: nothing listens there
    enabled = [
      target(goodId, 'Local server', `rtmp://127.0.0.1:${goodPort}/live`, goodKey),
      target(deadId, 'Dead server', `rtmp://127.0.0.1:${deadPort}/live`, deadKey),
    ];
    run = await startIngestRun({
      prefix: testSubjectPrefix(),
      handlers: {
        ...singleChannelHandlers({ key: streamKey, channelId, username }),
        // The channel's key, or the one rotated in by the last test.
        [CommandPatterns.AuthorizePublish]: (d) =>
          (provesKey(d, streamKey) || (rotatedKey !== null && provesKey(d, rotatedKey))) && d['channelId'] === channelId
            ? { allowed: true, channelId, username }
            : { allowed: false, reason: 'invalid_key', message: 'no' },
        [CommandPatterns.RestreamTargets]: (d) => (d['channelId'] === channelId ? { targets: enabled } : { targets: [] }),
        [CommandPatterns.RestreamState]: () => ({ ok: true }),
        [CommandPatterns.BroadcastStart]: async (d) => {
          await new Promise((r) => setTimeout(r, broadcastStartDelayMs));
          return { ok: true, broadcastId: d['broadcastId'] };
        },
      },
      tmpPrefix: 'ingest-restream-',
      env: {
        RESTREAM_KEY_SECRET: transportKey,
        RESTREAM_ALLOW_PRIVATE_TARGETS: 'true',
        INGEST_RESTREAM_POLL_MS: '1000',
        // room for a slow broadcast start (last test): 7 s answer, the publisher gone (3-s grace) before it
        INGEST_COMMAND_TIMEOUT_MS: '10000',
        INGEST_RESTREAM_RETRY_MIN_MS: '500',
        INGEST_RESTREAM_RETRY_MAX_MS: '1000',
        LOG_LEVEL: 'debug',
      },
    });
  });
  after(async () => {
    await run?.stop();
    await rm(received, { force: true });
  });

  const states = (targetId: string) =>
    run.fake.calls.filter((c) => c.pattern === CommandPatterns.RestreamState && c.data['targetId'] === targetId).map((c) => c.data);

  void it('forwards the broadcast to a live target; a dead target fails and retries without disturbing either', async () => {
    // The second RTMP server: ffmpeg listening, copying what it receives into a file.
    const server = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'flv', '-listen', '1', '-i', `rtmp://127.0.0.1:${goodPort}/live/${goodKey}`, '-c', 'copy', '-y', received], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const serverExit = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    const pub = publishTestStream(run.rtmpUrl(streamKey), 14);
    try {
      const start = await run.fake.waitFor(CommandPatterns.BroadcastStart);
      const broadcastId = String(start.data['broadcastId']);
      await run.fake.waitFor(CommandPatterns.RestreamTargets, (c) => c.data['broadcastId'] === broadcastId);

      await waitUntil('the good target live', () => (states(goodId).some((s) => s['state'] === 'live') ? true : undefined), 20_000);
      assert.equal(states(goodId)[0]?.['state'], 'connecting');
      assert.equal(states(goodId)[0]?.['broadcastId'], broadcastId);

      // The dead target: failed with the reason, then retrying — at least twice (backoff 0.5 s, 1 s).
      await waitUntil('the dead target retried twice', () => (states(deadId).filter((s) => s['state'] === 'failed').length >= 2 ? true : undefined), 20_000);
      const failed = states(deadId).find((s) => s['state'] === 'failed')!;
      assert.match(String(failed['reason']), /refused|Input\/output error|Cannot open connection/i, String(failed['reason']));
      assert.ok(states(deadId).some((s) => s['state'] === 'retrying'));
      assert.ok(!states(deadId).some((s) => s['state'] === 'live'));

      // Meanwhile the main broadcast is packaged and the good target stays live (no failure reported for it).
      await waitUntil('HLS segments of the main broadcast', async () => {
        const r = await rawRequest(run.httpPort, `/hls/${username}/source.m3u8`);
        return r.status === 200 && (r.body.toString().match(/#EXTINF/g) ?? []).length >= 3 ? true : undefined;
      }, 20_000);
      assert.ok(!states(goodId).some((s) => s['state'] === 'failed'), JSON.stringify(states(goodId)));

      // Disabled while live: the dead target is stopped at the next poll.
      enabled = enabled.filter((t) => t.targetId !== deadId);
      await waitUntil('the dead target stopped', () => (states(deadId).at(-1)?.['state'] === 'stopped' ? true : undefined), 10_000);

      assert.equal(await pub.exit, 0, pub.stderr());
      await run.fake.waitFor(CommandPatterns.BroadcastEnd);
      await waitUntil('the good target stopped with the broadcast', () => (states(goodId).at(-1)?.['state'] === 'stopped' ? true : undefined), 15_000);
      await Promise.race([serverExit, new Promise((r) => setTimeout(r, 8000))]);
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
      pub.child.kill('SIGKILL');
    }

    // The second server received video frames of the broadcast.
    const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', received], { encoding: 'utf8' });
    const stream = (JSON.parse(probe.stdout || '{}') as { streams?: { codec_name?: string; nb_read_frames?: string }[] }).streams?.[0];
    assert.equal(stream?.codec_name, 'h264', probe.stderr);
    assert.ok(Number(stream?.nb_read_frames) >= 60, `video frames received by the target: ${stream?.nb_read_frames}`);

    // No target key in any log line or any request the ingest sent (state reports, target requests).
    const logs = run.ingest.output();
    assert.ok(logs.includes('restream target failed'), 'the failure was logged');
    for (const key of [goodKey, deadKey, streamKey]) {
      assert.ok(!logs.includes(key), 'a key in the ingest log');
      for (const c of run.fake.calls) assert.ok(!c.raw.includes(key), `a key in ${c.pattern}`);
    }
  });
  void it('a reconnect within the grace period with a rotated key restarts the targets on the new session', async () => {
    enabled = [target(goodId, 'Local server', `rtmp://127.0.0.1:${goodPort}/live`, goodKey)];
    // The target server accepts one publish after another (each ffmpeg -listen 1 serves one client).
    const servers: ReturnType<typeof spawn>[] = [];
    let serving = true;
    const serve = (): void => {
      if (!serving) return;
      const srv = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'flv', '-listen', '1', '-i', `rtmp://127.0.0.1:${goodPort}/live/${goodKey}`, '-c', 'copy', '-f', 'null', '-'], { stdio: 'ignore' });
      servers.push(srv);
      srv.once('exit', () => setTimeout(serve, 100));
    };
    serve();
    const n = run.fake.calls.length;
    const since = (targetId: string) => states(targetId).filter((s) => run.fake.calls.findIndex((c) => c.data === s) >= n);
    rotatedKey = generateStreamKey(channelId);
    const first = publishTestStream(run.rtmpUrl(streamKey), 5, { preset: 'ultrafast' });
    let second: ReturnType<typeof publishTestStream> | null = null;
    try {
      await waitUntil('the target live', () => (since(goodId).some((s) => s['state'] === 'live') ? true : undefined), 20_000);
      assert.equal(await first.exit, 0);
      second = publishTestStream(run.rtmpUrl(rotatedKey), 8, { preset: 'ultrafast' });
      await waitUntil('restarted for the new session', () => (since(goodId).some((s) => /another stream key/.test(String(s['reason']))) ? true : undefined), 15_000);
      await waitUntil('live again', () => {
        const list = since(goodId);
        const restartAt = list.findIndex((s) => /another stream key/.test(String(s['reason'])));
        return list.slice(restartAt).some((s) => s['state'] === 'live') ? true : undefined;
      }, 20_000);
      assert.ok(!run.ingest.output().includes(rotatedKey), 'the rotated key is not logged');
    } finally {
      serving = false;
      rotatedKey = null;
      first.child.kill('SIGKILL');
      second?.child.kill('SIGKILL');
      for (const srv of servers) if (srv.exitCode === null) srv.kill('SIGKILL');
    }
  });
  void it('a channel that ends while the broadcast start is pending starts no restream', async () => {
    enabled = [target(goodId, 'Local server', `rtmp://127.0.0.1:${goodPort}/live`, goodKey)];
    // The previous test's broadcast must be over (else this publish resumes it within the grace period).
    const count = (p: string) => run.fake.calls.filter((c) => c.pattern === p).length;
    await waitUntil('no broadcast live', () => (count(CommandPatterns.BroadcastEnd) >= count(CommandPatterns.BroadcastStart) ? true : undefined), 20_000);
    broadcastStartDelayMs = 7000;
    const n = run.fake.calls.length;
    const pub = publishTestStream(run.rtmpUrl(streamKey), 2, { preset: 'ultrafast' });
    try {
      const start = await run.fake.waitFor(CommandPatterns.BroadcastStart, (c) => run.fake.calls.indexOf(c) >= n);
      assert.equal(await pub.exit, 0);
      // The publisher left (grace period and fallback pass while the command side is still answering the start).
      await run.fake.waitFor(CommandPatterns.BroadcastEnd, (c) => run.fake.calls.indexOf(c) >= n && c.data['broadcastId'] === start.data['broadcastId'], 20_000);
      await new Promise((r) => setTimeout(r, 1500));
      const asked = run.fake.calls.slice(n).filter((c) => c.pattern === CommandPatterns.RestreamTargets);
      assert.deepEqual(asked, [], 'no restream target was requested for the ended channel');
    } finally {
      broadcastStartDelayMs = 0;
      pub.child.kill('SIGKILL');
    }
  });
});
