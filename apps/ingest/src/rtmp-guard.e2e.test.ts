/**
 * Hostile RTMP input against a real ingest process (node-media-server behind ./rtmp-guard.ts, real ffmpeg, real
 * NATS; the command side is the fake of the other ingest tests): issue 9 items 4 and 5.
 * - 50 garbage connections (random bytes, silence, a handshake then nothing, 16 MiB messages announced on 40 chunk
 *   streams, a byte-by-byte trickle) are all closed within 15 s, the process's external memory does not grow with
 *   the announced lengths, and meanwhile the right key goes live (first HLS playlist);
 * - the per-address cap refuses the connection over the limit; a publisher that stops sending is disconnected after
 *   the idle timeout;
 * - the total cap (`INGEST_RTMP_MAX_CONNECTIONS`, own ingest run with a low cap) refuses one connection more from a
 *   fresh address, leaves the open ones alone, exempts the internal loopback and frees a slot on close;
 * - ffmpeg publishing a wrong, a rotated, a malformed or an already-live key reads the reason on stderr
 *   ("Server error: NetStream.Publish.BadName: …" / "…Rejected: …"), and a raw client reads the onStatus itself.
 * Attack connections come from 127.0.0.10–127.0.0.60 (all of 127/8 is loopback on Linux), so they are subject to
 * the per-address cap while the packager's loopback 127.0.0.1 is not.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { rtmpRefusalStatus } from '@eventcast/contracts';
import { CommandPatterns } from '@eventcast/events';
import { generateStreamKey, parseMetrics, sampleValue, type MetricFamily } from '@eventcast/platform';
import type { FakeHandlers } from './test-support/fake-command-side.js';
import { publishTestStream, rawRequest, waitUntil, type Publisher } from './test-support/harness.js';
import { provesKey, startIngestRun, testSubjectPrefix, type IngestRun } from './test-support/ingest-run.js';
import {
  announceMessage,
  commandMessage,
  handshake,
  onStatus,
  playSequence,
  publishSequence,
  rawConnect,
  setChunkSizeMessage,
  type RawRtmp,
} from './test-support/rtmp-client.js';

interface Channel {
  channelId: string;
  username: string;
  key: string;
}
const channel = (tag: string): Channel => {
  const channelId = randomUUID();
  return { channelId, username: `${tag}_${randomBytes(4).toString('hex')}`, key: generateStreamKey(channelId) };
};
const live = channel('g');
const idle = channel('i');
const slow = channel('s');
const rotated = channel('r');
const rotatedOldKey = rotated.key;
rotated.key = generateStreamKey(rotated.channelId); // the key was rotated: only the new one is valid
const channels = [live, idle, rotated, slow];

const PER_IP = 8;
const IDLE_MS = 3000;
const PLAYER_BUFFER_BYTES = 1024 * 1024;
const liveBroadcasts = new Set<string>();
let silentAuthorize = false;

/** The command side: each channel's current key; `already_live` while a broadcast of the channel is running. */
const handlers: FakeHandlers = {
  [CommandPatterns.AuthorizePublish]: (d) => {
    if (silentAuthorize) return undefined;
    const ch = channels.find((c) => c.channelId === d['channelId']);
    if (d['channelId'] === null) return { allowed: false, reason: 'malformed_key', message: 'malformed' };
    if (!ch) return { allowed: false, reason: 'unknown_channel', message: 'unknown' };
    // The ingest sends a one-time proof of the key, not its hash (issue 9 item 3).
    if (!provesKey(d, ch.key)) return { allowed: false, reason: 'invalid_key', message: 'invalid' };
    if (liveBroadcasts.has(ch.channelId)) return { allowed: false, reason: 'already_live', message: 'live' };
    return { allowed: true, channelId: ch.channelId, username: ch.username };
  },
  [CommandPatterns.BroadcastStart]: (d) => {
    liveBroadcasts.add(String(d['channelId']));
    return { ok: true, broadcastId: d['broadcastId'] };
  },
  [CommandPatterns.BroadcastEnd]: (d) => {
    liveBroadcasts.delete(String(d['channelId']));
    return { ok: true };
  },
  [CommandPatterns.IngestNodeStarted]: () => ({ ended: 0 }),
};

void describe('RTMP guard: hostile input and refusals (real NMS, ffmpeg and NATS)', { timeout: 180_000 }, () => {
  let run: IngestRun;
  const scrape = async (): Promise<MetricFamily[]> => parseMetrics((await rawRequest(run.httpPort, '/metrics')).body.toString());

  before(async () => {
    run = await startIngestRun({
      prefix: testSubjectPrefix(),
      handlers,
      tmpPrefix: 'ingest-guard-',
      env: {
        INGEST_RTMP_MAX_CONNECTIONS_PER_IP: String(PER_IP),
        INGEST_RTMP_IDLE_TIMEOUT_MS: String(IDLE_MS),
        INGEST_COMMAND_TIMEOUT_MS: '1500',
        INGEST_PUBLISH_GRACE_MS: '1000',
        INGEST_RTMP_MAX_PLAYER_BUFFER_BYTES: String(PLAYER_BUFFER_BYTES),
        // the defaults of the other limits: 10 s handshake deadline, 64 KiB before authorization, 16 chunk streams
      },
    });
  });
  after(() => run?.stop());

  void it('closes 50 garbage connections within 15 s without memory growing, while the right key goes live', async () => {
    const externalBefore = sampleValue(await scrape(), 'nodejs_external_memory_bytes');
    const t0 = Date.now();
    const attackers: { kind: string; conn: RawRtmp }[] = [];
    const kinds = ['random', 'silence', 'handshake-only', 'announce-16MiB-x40', 'trickle'] as const;
    for (let i = 0; i < 50; i++) {
      const kind = kinds[i % kinds.length]!;
      const conn = await rawConnect(run.rtmpPort, `127.0.0.${10 + Math.floor(i / 5)}`);
      attackers.push({ kind, conn });
      switch (kind) {
        case 'random':
          // half start with the RTMP version byte, so the random bytes reach the handshake and the chunk parser
          void conn.write(Buffer.concat([Buffer.from(i % 2 ? [3] : []), randomBytes(8192)]));
          break;
        case 'silence':
          break;
        case 'handshake-only':
          await handshake(conn);
          break;
        case 'announce-16MiB-x40': {
          await handshake(conn);
          // ≈ 5.6 KB: 40 chunk streams each announcing a 16 MiB message (what reserved ≈ 670 MB before)
          const headers = Array.from({ length: 40 }, (_, k) => announceMessage(4 + k * 9, 0xffffff, 128));
          void conn.write(Buffer.concat(headers));
          break;
        }
        case 'trickle':
          void (async () => {
            await conn.write(Buffer.from([3]));
            while (!conn.isClosed()) {
              await conn.write(randomBytes(1));
              await delay(500);
            }
          })();
          break;
      }
    }

    // Meanwhile the channel's encoder goes live.
    const pub: Publisher = publishTestStream(run.rtmpUrl(live.key), 25);
    let externalPeak = externalBefore;
    const sampler = setInterval(() => {
      scrape().then(
        (m) => (externalPeak = Math.max(externalPeak, sampleValue(m, 'nodejs_external_memory_bytes'))),
        () => undefined,
      );
    }, 250);
    try {
      const playlist = await waitUntil('first HLS playlist during the attack', async () => {
        const r = await rawRequest(run.httpPort, `/hls/${live.username}/source.m3u8`);
        return r.status === 200 && r.body.toString().includes('#EXTINF') ? r : undefined;
      }, 20_000);
      assert.equal(playlist.status, 200);
      assert.ok(attackers.some((a) => !a.conn.isClosed()), 'the playlist appeared while attack connections were still open');

      const closedAfter = await Promise.race([
        Promise.all(attackers.map((a) => a.conn.closed)),
        delay(20_000).then(() => assert.fail(`still open after 20 s: ${attackers.filter((a) => !a.conn.isClosed()).map((a) => a.kind).join(', ')}`)),
      ]);
      const lastClosed = Date.now() - t0;
      assert.ok(lastClosed < 15_000, `all 50 closed within 15 s (last after ${lastClosed} ms)`);
      for (const [i, a] of attackers.entries()) {
        if (a.kind === 'announce-16MiB-x40') assert.ok(closedAfter[i]! < 2000, `${a.kind} closed at once (${closedAfter[i]} ms)`);
      }
    } finally {
      clearInterval(sampler);
    }
    const m = await scrape();
    externalPeak = Math.max(externalPeak, sampleValue(m, 'nodejs_external_memory_bytes'));
    // 10 connections announced 40 × 16 MiB each (6.7 GB in all; one such connection reserved ≈ 670 MB before the
    // guard). What remains is the live stream's packets not yet garbage-collected (≈ 50 MB measured): allow 128 MiB.
    const grew = externalPeak - externalBefore;
    assert.ok(grew < 128 * 1024 * 1024, `external memory grew by ${grew} bytes`);
    const closed = (reason: string) => sampleValue(m, 'eventcast_ingest_rtmp_connections_closed_total', { reason });
    assert.ok(closed('message_too_long') >= 10, 'the 16 MiB announcements were cut off');
    assert.ok(closed('handshake_timeout') >= 20, 'silent and half-done connections hit the handshake deadline');
    assert.ok(closed('bad_version') >= 1, 'random bytes without the RTMP version byte are closed at once');
    assert.equal(run.ingest.child.exitCode, null, 'the ingest process survived');
    assert.equal((await rawRequest(run.httpPort, '/health')).status, 200);

    // An already-live key: the second encoder is told so (the first is still publishing).
    const second = publishTestStream(run.rtmpUrl(live.key), 5);
    assert.notEqual(await second.exit, 0);
    assert.match(second.stderr(), /Server error: NetStream\.Publish\.Rejected: the channel is already live/);
    assert.equal(await pub.exit, 0, pub.stderr());
  });

  void it('closes on protocol violations (chunk streams, chunk size 0, a connect the parser chokes on); the process lives', async () => {
    const violations: [string, Buffer][] = [
      ['too_many_chunk_streams', Buffer.concat(Array.from({ length: 40 }, (_, k) => announceMessage(4 + k, 100, 100)))],
      ['bad_chunk_size', setChunkSizeMessage(0)],
      // NMS 4.4 calls `new URL(tcUrl)`, which throws out of its socket listener: without the guard, an uncaught exception
      ['protocol_error', commandMessage(0, { cmd: 'connect', transId: 1, cmdObj: { app: 'live', tcUrl: 'not a url' } })],
    ];
    const before = await scrape();
    for (const [reason, bytes] of violations) {
      const conn = await rawConnect(run.rtmpPort, '127.0.0.70');
      await handshake(conn);
      await conn.write(bytes);
      const after = await Promise.race([conn.closed, delay(3000).then(() => Infinity)]);
      assert.ok(after < 3000, `${reason}: closed at once`);
    }
    const m = await scrape();
    for (const [reason] of violations) {
      const counted = (f: MetricFamily[]) => sampleValue(f, 'eventcast_ingest_rtmp_connections_closed_total', { reason });
      assert.equal(counted(m) - counted(before), 1, reason);
    }
    assert.equal(run.ingest.child.exitCode, null, 'the ingest process survived');
  });

  void it('refuses the connection over the per-address cap, and accepts again when one closes', async () => {
    const from = '127.0.0.60';
    const open: RawRtmp[] = [];
    for (let i = 0; i < PER_IP; i++) open.push(await rawConnect(run.rtmpPort, from));
    await delay(300);
    assert.ok(open.every((c) => !c.isClosed()), `${PER_IP} connections from one address are allowed`);
    const over = await rawConnect(run.rtmpPort, from);
    const overClosedAfter = await Promise.race([over.closed, delay(2000).then(() => Infinity)]);
    assert.ok(overClosedAfter < 1000, `connection ${PER_IP + 1} closed at once (${overClosedAfter} ms)`);
    const other = await rawConnect(run.rtmpPort, '127.0.0.61');
    await delay(300);
    assert.equal(other.isClosed(), false, 'another address is not affected');
    open[0]!.socket.destroy();
    await open[0]!.closed;
    await delay(100);
    const again = await rawConnect(run.rtmpPort, from);
    await delay(300);
    assert.equal(again.isClosed(), false, 'a slot freed by a close is usable again');
    for (const c of [...open, other, again]) c.socket.destroy();
    assert.ok(sampleValue(await scrape(), 'eventcast_ingest_rtmp_connections_closed_total', { reason: 'per_ip_limit' }) >= 1);
  });

  void it('disconnects an authorized publisher that stops sending after the idle timeout', async () => {
    const conn = await rawConnect(run.rtmpPort, '127.0.0.62');
    await handshake(conn);
    await conn.write(publishSequence(run.rtmpPort, idle.key));
    await waitUntil('Publish.Start', () => onStatus(conn, /^NetStream\.Publish\.Start$/), 5000);
    const acceptedAt = Date.now();
    await Promise.race([conn.closed, delay(IDLE_MS + 5000)]);
    assert.ok(conn.isClosed(), 'the silent publisher was disconnected');
    const after = Date.now() - acceptedAt;
    assert.ok(after >= IDLE_MS - 200 && after < IDLE_MS + 2500, `disconnected ${after} ms after the publish (idle timeout ${IDLE_MS} ms)`);
    assert.ok(sampleValue(await scrape(), 'eventcast_ingest_rtmp_connections_closed_total', { reason: 'idle_timeout' }) >= 1);
  });

  void it('disconnects an internal player that stops reading (NMS ignores backpressure); memory stays bounded', async () => {
    // 8 Mbit/s ≈ 1 MB/s: the kernel's socket buffers (a few MB on loopback) fill in seconds, then NMS queues in the heap.
    const pub = publishTestStream(run.rtmpUrl(slow.key), 40, { preset: 'ultrafast', videoKbps: 8000 });
    try {
      await waitUntil('the channel is live', async () => {
        const r = await rawRequest(run.httpPort, `/hls/${slow.username}/source.m3u8`);
        return r.status === 200 && r.body.toString().includes('#EXTINF') ? r : undefined;
      }, 20_000);
      const before = await scrape();
      const externalBefore = sampleValue(before, 'nodejs_external_memory_bytes');
      const backlogBefore = sampleValue(before, 'eventcast_ingest_rtmp_connections_closed_total', { reason: 'player_backlog' });
      const player = await rawConnect(run.rtmpPort, '127.0.0.1'); // internal: `play` is allowed
      await handshake(player);
      await player.write(playSequence(run.rtmpPort, slow.key));
      await waitUntil('Play.Start', () => onStatus(player, /^NetStream\.Play\.Start$/), 5000);
      player.socket.pause(); // stops reading: the kernel buffers fill, then NMS's socket.write queues
      let externalPeak = externalBefore;
      const backlog = () => sampleValue(m, 'eventcast_ingest_rtmp_connections_closed_total', { reason: 'player_backlog' }) - backlogBefore;
      let m = before;
      const deadline = Date.now() + 30_000;
      while (backlog() === 0 && Date.now() < deadline) {
        await delay(500);
        m = await scrape();
        externalPeak = Math.max(externalPeak, sampleValue(m, 'nodejs_external_memory_bytes'));
      }
      assert.equal(backlog(), 1, 'the player that stopped reading was disconnected within 30 s (player_backlog)');
      // A paused socket reports its close only once its unread data is consumed.
      player.socket.resume();
      const closed = await Promise.race([player.closed.then(() => true), delay(5000).then(() => false)]);
      assert.ok(closed, 'the server closed the player connection');
      // the bound (1 MiB) plus one sweep tick of stream and the live channel's own buffers; unbounded would keep growing
      const grew = externalPeak - externalBefore;
      assert.ok(grew < 64 * 1024 * 1024, `external memory grew by ${grew} bytes`);
      // the publisher and its channel are unaffected
      assert.equal(pub.child.exitCode, null, 'the publisher is still connected');
      assert.equal((await rawRequest(run.httpPort, `/hls/${slow.username}/source.m3u8`)).status, 200);
    } finally {
      pub.child.kill('SIGKILL');
      await pub.exit;
    }
  });

  void it('tells ffmpeg why its key was refused: wrong, rotated, malformed (BadName), unavailable (Rejected)', async () => {
    const badName = /Server error: NetStream\.Publish\.BadName: /;
    const wrong = publishTestStream(run.rtmpUrl(generateStreamKey(live.channelId)), 5);
    assert.notEqual(await wrong.exit, 0);
    assert.match(wrong.stderr(), badName);
    assert.ok(wrong.stderr().includes(rtmpRefusalStatus('invalid_key').description), wrong.stderr());

    const old = publishTestStream(run.rtmpUrl(rotatedOldKey), 5);
    assert.notEqual(await old.exit, 0);
    assert.match(old.stderr(), /Server error: NetStream\.Publish\.BadName: the stream key is wrong or was rotated/);

    const malformed = publishTestStream(run.rtmpUrl('not_a_stream_key'), 5);
    assert.notEqual(await malformed.exit, 0);
    assert.match(malformed.stderr(), /Server error: NetStream\.Publish\.BadName: the stream key is malformed/);

    silentAuthorize = true;
    try {
      const unchecked = publishTestStream(run.rtmpUrl(live.key), 5);
      assert.notEqual(await unchecked.exit, 0);
      assert.match(unchecked.stderr(), /Server error: NetStream\.Publish\.Rejected: the stream key could not be checked/);
    } finally {
      silentAuthorize = false;
    }
    const started = run.fake.calls.filter((c) => c.pattern === CommandPatterns.BroadcastStart).map((c) => c.data['channelId']);
    assert.ok(!started.includes(rotated.channelId), 'the rotated key started no broadcast');
    assert.equal(started.filter((id) => id === live.channelId).length, 1, 'only the first test went live on this channel');
  });

  void it('answers a raw client with the onStatus code and description, then closes', async () => {
    const conn = await rawConnect(run.rtmpPort, '127.0.0.63');
    await handshake(conn);
    await conn.write(publishSequence(run.rtmpPort, rotatedOldKey));
    await conn.closed;
    const status = onStatus(conn);
    assert.deepEqual(status, { ...rtmpRefusalStatus('invalid_key') });
    assert.equal(onStatus(conn, /Publish\.Start/), undefined, 'no Publish.Start before the refusal');

    const player = await rawConnect(run.rtmpPort, '127.0.0.64');
    await handshake(player);
    await player.write(
      Buffer.concat([
        setChunkSizeMessage(65535),
        commandMessage(0, { cmd: 'connect', transId: 1, cmdObj: { app: 'live', tcUrl: `rtmp://127.0.0.1:${run.rtmpPort}/live` } }),
        commandMessage(0, { cmd: 'createStream', transId: 2, cmdObj: null }),
        commandMessage(1, { cmd: 'play', transId: 3, cmdObj: null, streamName: live.key }),
      ]),
    );
    await player.closed;
    assert.equal(onStatus(player)?.['code'], 'NetStream.Play.Failed');
  });
});

void describe('RTMP guard: total connection cap (INGEST_RTMP_MAX_CONNECTIONS)', { timeout: 60_000 }, () => {
  const TOTAL = 4;
  let run: IngestRun;
  const scrape = async (): Promise<MetricFamily[]> => parseMetrics((await rawRequest(run.httpPort, '/metrics')).body.toString());

  before(async () => {
    run = await startIngestRun({
      prefix: testSubjectPrefix(),
      handlers,
      tmpPrefix: 'ingest-guard-total-',
      env: { INGEST_RTMP_MAX_CONNECTIONS: String(TOTAL), INGEST_COMMAND_TIMEOUT_MS: '1500' },
    });
  });
  after(() => run?.stop());

  void it('refuses the connection over the total cap from a fresh address; the open ones and loopback are unaffected', async () => {
    const limited = (f: MetricFamily[]): number => sampleValue(f, 'eventcast_ingest_rtmp_connections_closed_total', { reason: 'total_limit' });
    const before = limited(await scrape());
    // One connection per address: the per-address cap (10) is never what refuses here.
    const open: RawRtmp[] = [];
    for (let i = 0; i < TOTAL; i++) open.push(await rawConnect(run.rtmpPort, `127.0.0.${80 + i}`));
    await delay(300);
    assert.ok(open.every((c) => !c.isClosed()), `${TOTAL} connections from ${TOTAL} addresses are allowed`);

    const over = await rawConnect(run.rtmpPort, '127.0.0.90');
    const overClosedAfter = await Promise.race([over.closed, delay(2000).then(() => Infinity)]);
    assert.ok(overClosedAfter < 1000, `connection ${TOTAL + 1} closed at once (${overClosedAfter} ms)`);
    assert.equal(limited(await scrape()) - before, 1, 'counted as total_limit');

    // The open connections still work: one completes the RTMP handshake after the refusal.
    await handshake(open[0]!);
    assert.ok(open.every((c) => !c.isClosed()), 'the open connections are unaffected');
    // Internal addresses (the packager's loopback) are exempt, so live channels keep being packaged.
    const internal = await rawConnect(run.rtmpPort, '127.0.0.1');
    await delay(300);
    assert.equal(internal.isClosed(), false, 'loopback is not subject to the total cap');

    open[1]!.socket.destroy();
    await open[1]!.closed;
    await delay(100);
    const again = await rawConnect(run.rtmpPort, '127.0.0.91');
    await delay(300);
    assert.equal(again.isClosed(), false, 'a slot freed by a close is usable again');
    for (const c of [...open, internal, again]) c.socket.destroy();
  });
});
