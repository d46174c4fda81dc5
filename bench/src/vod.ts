/**
 * Recordings benchmark (issue 11), on a platform started as in the end-to-end tests:
 * 1. **VOD available after the broadcast's end** for a long broadcast (default 1 hour of media): ms from the
 *    `BroadcastEnded` event (after the publish grace period) to the first `200` of `GET /videos/:id` — the recorder
 *    finalizing the playlists, `ingest.broadcast-recorded`, `BroadcastRecorded`, the projection. The hour of media is
 *    a pre-encoded 1080p30 6 Mb/s passthrough clip (x264 veryfast, 2-s GOP, noise so it fills its bitrate) sent in a
 *    loop with `-c copy` at `--speed` × real time (`-readrate`): the recorder's work per segment and at the end is the
 *    same as for a real-time hour (it keeps one small record per segment and writes the playlists once more), only
 *    the wall time is shorter; program date times follow media time.
 * 2. **Disk per hour** of passthrough 1080p: bytes under `recordings/<id>/` divided by the VOD's media hours.
 * 3. **Chat replay page** latency for the 1-hour VOD with `--messages` (default 100,000) chat messages: the messages
 *    are appended to the event store (`ChatMessageSent` v2, `visibleAt` spread over the broadcast) and projected by
 *    the running query-api; then `--pages` random pages (`GET /videos/:id/chat?from=<random s>`, default limit) and
 *    one full walk with cursors, client-side ms per page: p50/p95/p99/max. Target p99 ≤ 50 ms.
 * 4. **Clip creation**: `POST /clips` of 30 s at random offsets of the VOD by several users (each within the clip rate
 *    limit), ms per request.
 * Writes bench/results/vod.json and .md. Usage:
 * `node bench/dist/vod.js [--media-seconds 3600] [--speed 10] [--messages 100000] [--pages 2000] [--clips 8]`
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { chatReplayPageSchema, createClipReplySchema, vodDetailSchema, type VodDetail } from '@eventcast/contracts';
import { startE2ePlatform, ROOT } from '@eventcast/e2e/harness';
import { eventVersions, streams } from '@eventcast/events';
import { loadEvents, type RawEvent } from '@eventcast/ops';
import { encodeClip } from './video/clock.js';
import { logger, machineInfo, quietGuard, refuseIfAnotherBenchmark, round, spawnChild, stats, until } from './video/common.js';

const { values } = parseArgs({
  options: {
    'media-seconds': { type: 'string', default: '3600' },
    speed: { type: 'string', default: '10' },
    messages: { type: 'string', default: '100000' },
    pages: { type: 'string', default: '2000' },
    clips: { type: 'string', default: '8' },
    'require-quiet': { type: 'boolean', default: false },
  },
});
const mediaSeconds = Number(values['media-seconds']);
const speed = Number(values.speed);
const messageCount = Number(values.messages);
const pageCount = Number(values.pages);
const clipCount = Number(values.clips);
const log = logger('vod');

/** Percentiles with p99 (nearest rank). */
function withP99(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return { ...stats(xs), p99: round(s[Math.min(s.length - 1, Math.max(0, Math.ceil(0.99 * s.length) - 1))] ?? NaN) };
}

async function register(base: string, username: string): Promise<{ id: string; token: string; username: string }> {
  const r = await fetch(`${base}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'benchmark-password' }) });
  if (r.status !== 201) throw new Error(`register ${username}: ${r.status} ${await r.text()}`);
  const body = (await r.json()) as { token: string; account: { id: string; username: string } };
  return { ...body.account, token: body.token };
}

async function main(): Promise<void> {
  refuseIfAnotherBenchmark();
  const quiet = await quietGuard(15, 60, values['require-quiet'], log);
  const work = mkdtempSync(join(tmpdir(), 'eventcast-bench-vod-'));
  const env = await startE2ePlatform({ logLevel: 'warn', env: { INGEST_PUBLISH_GRACE_MS: '3000' } });
  const db = new pg.Pool({ connectionString: env.db.url, max: 2 });
  try {
    const q = env.platform.urls.queryApi;
    const c = env.platform.urls.commandApi;
    const owner = await register(c, `vodbench_${Date.now().toString(36)}`);
    const key = ((await (await fetch(`${c}/me/stream-key`, { headers: { authorization: `Bearer ${owner.token}` } })).json()) as { streamKey: string }).streamKey;

    // 1. The long broadcast.
    const clip = join(work, 'source.flv');
    log('encoding the 1080p30 6 Mb/s source clip (20 s)');
    await encodeClip(clip, { width: 1920, height: 1080, fps: 30, gopSeconds: 2, videoKbps: 6000, preset: 'veryfast' }, 20);
    const sourceKbps = round((Number(execFileSync('stat', ['-c', '%s', clip]).toString()) * 8) / 20 / 1000, 0);
    log(`source clip: ${sourceKbps} kb/s (video + audio + FLV); publishing ${mediaSeconds} s of media at ${speed}× real time`);
    const publishedAt = Date.now();
    const pub = spawnChild('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-readrate', String(speed), '-stream_loop', '-1', '-i', clip,
      '-t', String(mediaSeconds), '-c', 'copy', '-f', 'flv', `${env.platform.urls.rtmp}/${key}`,
    ]);
    const broadcastId = await until('the broadcast to start', async () => {
      const r = await db.query<{ id: string }>(`SELECT data->>'broadcastId' AS id FROM eventstore.events WHERE type = 'BroadcastStarted' AND data->>'channelId' = $1`, [owner.id]);
      return r.rows[0]?.id ?? null;
    }, 60_000, 200);
    const code = await pub.exited;
    log(`publisher exited (${code}) after ${round((Date.now() - publishedAt) / 1000, 1)} s`);
    const endedAtMs = await until('BroadcastEnded', async () => {
      const r = await db.query<{ at: Date }>(`SELECT created_at AS at FROM eventstore.events WHERE type = 'BroadcastEnded' AND data->>'broadcastId' = $1`, [broadcastId]);
      return r.rows[0]?.at.getTime() ?? null;
    }, 120_000, 20);
    let vod: VodDetail | null = null;
    const vodAt = await until('the VOD', async () => {
      const r = await fetch(`${q}/videos/${broadcastId}`);
      if (!r.ok) return null;
      vod = vodDetailSchema.parse(await r.json());
      return Date.now();
    }, 600_000, 20);
    const recordedRow = await db.query<{ at: Date }>(`SELECT created_at AS at FROM eventstore.events WHERE type = 'BroadcastRecorded' AND data->>'broadcastId' = $1`, [broadcastId]);
    const detail = vod as unknown as VodDetail;
    const vodAfterEndMs = vodAt - endedAtMs;
    const recordedAfterEndMs = (recordedRow.rows[0]?.at.getTime() ?? NaN) - endedAtMs;
    log(`VOD available ${vodAfterEndMs} ms after BroadcastEnded (BroadcastRecorded after ${recordedAfterEndMs} ms); ${detail.durationSeconds} s of media`);

    // 2. Disk per hour.
    const bytes = Number(execFileSync('du', ['-sb', join(env.recordingsDir, 'recordings', broadcastId)]).toString().split('\t')[0]);
    const hours = detail.durationSeconds / 3600;
    const gbPerHour = bytes / hours / 1e9;
    log(`recording: ${bytes} bytes for ${round(hours, 3)} h → ${round(gbPerHour, 3)} GB/hour`);

    // 3. Chat replay pages over `messageCount` messages spread over the broadcast.
    const run = detail.timeline;
    const first = run[0]?.programDateTimeMs ?? Date.now();
    const lastRun = run.at(-1);
    const last = lastRun ? lastRun.programDateTimeMs + lastRun.durationMs : first + 3_600_000;
    const senders = Array.from({ length: 50 }, (_, i) => ({ id: randomUUID(), name: `viewer_${i}` }));
    log(`appending ${messageCount} chat messages`);
    const t0 = Date.now();
    for (let done = 0; done < messageCount; ) {
      const batch: RawEvent[] = [];
      for (let i = 0; i < 10_000 && done < messageCount; i++, done++) {
        const s = senders[done % senders.length]!;
        const at = new Date(first + ((last - first) * (done + 0.5)) / messageCount).toISOString();
        batch.push({
          stream: streams.chat(owner.id),
          type: 'ChatMessageSent',
          version: eventVersions.ChatMessageSent,
          data: { channelId: owner.id, username: owner.username, messageId: randomUUID(), senderId: s.id, senderName: s.name, senderRole: 'viewer', text: `message ${done} from ${s.name} Kappa`, maskedTerms: 0, sentAt: at, visibleAt: at },
          occurredAt: new Date(at),
        });
      }
      await loadEvents(db, batch);
    }
    const countMessages = async () => {
      const r = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM readmodels.chat_messages WHERE channel_id = $1`, [owner.id]);
      return Number(r.rows[0]?.n ?? 0);
    };
    await until('the messages projected', async () => (await countMessages()) >= messageCount, 900_000, 1000);
    const projectedS = (Date.now() - t0) / 1000;
    log(`projected in ${round(projectedS, 1)} s`);
    const pageMs: number[] = [];
    let served = 0;
    for (let i = 0; i < pageCount; i++) {
      const from = Math.random() * detail.durationSeconds;
      const s = performance.now();
      const r = await fetch(`${q}/videos/${broadcastId}/chat?from=${from.toFixed(3)}`);
      const body = chatReplayPageSchema.parse(await r.json());
      pageMs.push(performance.now() - s);
      served += body.items.length;
    }
    const walkMs: number[] = [];
    let walked = 0;
    let cursor: string | null = null;
    do {
      const s = performance.now();
      const r = await fetch(`${q}/videos/${broadcastId}/chat?from=0${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      const body = chatReplayPageSchema.parse(await r.json());
      walkMs.push(performance.now() - s);
      walked += body.items.length;
      cursor = body.nextCursor;
    } while (cursor);
    const random = withP99(pageMs);
    const walk = withP99(walkMs);
    log(`random pages: p50 ${random.p50} ms, p99 ${random.p99} ms; walk of ${walked} messages in ${walkMs.length} pages: p99 ${walk.p99} ms`);

    // 4. Clips: 30 s at random offsets, by several users within their rate limit.
    const clippers = await Promise.all(Array.from({ length: Math.ceil(clipCount / 2) }, (_, i) => register(c, `clipper_${i}_${Date.now().toString(36)}`)));
    const clipMs: number[] = [];
    for (let i = 0; i < clipCount; i++) {
      const who = clippers[i % clippers.length]!;
      const start = Math.random() * Math.max(0, detail.durationSeconds - 40);
      const s = performance.now();
      const r = await fetch(`${c}/clips`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${who.token}` },
        body: JSON.stringify({ broadcastId, title: `bench clip ${i}`, startSeconds: Math.floor(start), durationSeconds: 30 }),
      });
      const took = performance.now() - s;
      if (r.status !== 201) throw new Error(`clip ${i}: ${r.status} ${await r.text()}`);
      createClipReplySchema.parse(await r.json());
      clipMs.push(took);
    }
    const clips = stats(clipMs);
    log(`clips of 30 s: p50 ${clips.p50} ms, max ${clips.max} ms`);

    const result = {
      benchmark: 'vod',
      at: new Date().toISOString(),
      machine: machineInfo(),
      quiet,
      settings: { mediaSeconds, speed, messages: messageCount, pages: pageCount, clips: clipCount, source: `1080p30 H.264 6 Mb/s (x264 veryfast, 2-s GOP) + AAC 160 kb/s, passthrough; measured ${sourceKbps} kb/s`, sourceKbps },
      vod: { durationSeconds: detail.durationSeconds, renditions: detail.renditions.map((r) => r.name), segments: detail.renditions.map((r) => r.segments), vodAfterEndMs, recordedAfterEndMs },
      disk: { bytes, hours: round(hours, 4), gbPerHour: round(gbPerHour, 3) },
      chatReplay: { messages: messageCount, projectedSeconds: round(projectedS, 1), randomPagesMs: random, itemsPerRandomPage: round(served / pageCount, 1), walk: { messages: walked, pages: walkMs.length, ms: walk } },
      clipCreationMs: clips,
    };
    writeFileSync(join(ROOT, 'bench/results/vod.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(
      join(ROOT, 'bench/results/vod.md'),
      [
        '# Recordings benchmark (issue 11)',
        '',
        `Run ${result.at} on ${result.machine.cpu} (${result.machine.cores} cores), Node ${result.machine.node}, ${result.machine.ffmpeg}; machine ${quiet.quiet ? 'quiet' : `**busy (${quiet.busyPercent} %): not for the record**`} before the run.`,
        `Source: ${result.settings.source}, ${mediaSeconds} s of media sent at ${speed}× real time (see bench/src/vod.ts).`,
        '',
        '| measure | result | target |',
        '|---|---|---|',
        `| VOD available after BroadcastEnded (${round(detail.durationSeconds / 60, 1)}-min broadcast, ${detail.renditions.map((r) => r.segments).join('+')} segments) | **${vodAfterEndMs} ms** (BroadcastRecorded after ${recordedAfterEndMs} ms) | ≤ 5 s |`,
        `| disk per hour, passthrough 1080p30 6 Mb/s | **${round(gbPerHour, 2)} GB/h** (${bytes} bytes for ${round(hours, 3)} h) | — |`,
        `| chat replay page, ${messageCount} messages, ${pageCount} random pages (≈ ${result.chatReplay.itemsPerRandomPage} items each) | p50 ${random.p50} ms, p95 ${random.p95} ms, **p99 ${random.p99} ms**, max ${random.max} ms | p99 ≤ 50 ms |`,
        `| chat replay, full walk with cursors (${walkMs.length} pages, ${walked} messages) | p50 ${walk.p50} ms, **p99 ${walk.p99} ms** | p99 ≤ 50 ms |`,
        `| clip creation, 30 s from the VOD (${clipCount} clips) | p50 ${clips.p50} ms, max ${clips.max} ms | — |`,
        '',
        `Messages projected by the live query-api in ${round(projectedS, 1)} s after being appended.`,
        '',
      ].join('\n'),
    );
    log('wrote bench/results/vod.json and vod.md');
  } finally {
    await db.end();
    await env.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
