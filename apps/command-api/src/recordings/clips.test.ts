/**
 * Clips on the command side (issue 11 item 5), real PostgreSQL, NATS and ffmpeg on a real fMP4 HLS recording: a VOD
 * range cut keyframe-aligned by stream copy (the MP4 is ≥ the asked duration and at most one GOP longer; its thumbnail
 * exists; `ClipCreated` says where it starts); a live clip; the 5–60-s bounds; unknown broadcasts; ranges without
 * media; the per-user rate limit (429 with Retry-After on the 6th); deletion by a moderator, the creator, a stranger.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLIP_RATE_LIMIT, clipKey, type CreateClipReply } from '@eventcast/contracts';
import { streams } from '@eventcast/events';
import { bearer, register, startHarness, type Harness } from '../test-support/harness.js';
import { encodeRendition, layRecording, probeSeconds } from '../test-support/recording-fixture.js';

/** Keyframe interval of the fixture (ffmpeg -g 60 at 30 frames/s), seconds. */
const GOP_SECONDS = 2;

describe('clips (command side)', () => {
  let h: Harness;
  let root: string;
  let rendition: string;
  let byTime: string;
  let owner: { token: string; id: string };
  const vod = randomUUID();
  const live = randomUUID();
  const ended = new Date(Date.now() - 60_000).toISOString();
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'eventcast-clips-test-'));
    rendition = await encodeRendition(30);
    byTime = await encodeRendition(12, { gopSeconds: 4, segmentSeconds: 1 });
    h = await startHarness({ RECORDINGS_DIR: root, RECORDING_RETENTION_INTERVAL_MS: 0 });
    owner = await register(h, 'clip_owner');
    await layRecording(root, rendition, { broadcastId: vod, channelId: owner.id, username: 'clip_owner', startedAt: new Date(Date.now() - 120_000).toISOString(), endedAt: ended });
    await layRecording(root, rendition, { broadcastId: live, channelId: owner.id, username: 'clip_owner', startedAt: new Date(Date.now() - 30_000).toISOString(), endedAt: null });
  });
  after(async () => {
    await h?.stop();
    await rm(root, { recursive: true, force: true });
    await rm(rendition, { recursive: true, force: true });
    await rm(byTime, { recursive: true, force: true });
  });

  const clipEvents = () => h.allEvents().then((all) => all.filter((e) => e.type === 'ClipCreated'));

  it('cuts a VOD range keyframe-aligned by stream copy: MP4 + thumbnail in storage, ClipCreated recorded', async () => {
    const viewer = await register(h, 'clip_viewer');
    const r = await h.http<CreateClipReply>('POST', '/clips', { broadcastId: vod, title: 'The save', startSeconds: 9, durationSeconds: 10 }, bearer(viewer.token));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.startSeconds, 8, 'starts at the segment (keyframe) at or before 9 s');
    const mp4 = join(root, clipKey(r.body.clipId, 'mp4'));
    assert.ok(existsSync(mp4) && existsSync(join(root, clipKey(r.body.clipId, 'jpg'))));
    const seconds = await probeSeconds(mp4);
    // Asked: [9, 19); cut from the keyframe at 8 s to 19 s.
    assert.ok(seconds >= 10 && seconds <= 10 + GOP_SECONDS + 0.1, `clip lasts ${seconds} s`);
    assert.ok(Math.abs(r.body.durationSeconds - seconds) < 0.01);
    const [created] = await clipEvents();
    assert.equal(created?.streamName, streams.clip(r.body.clipId));
    assert.equal(created?.globalPosition, r.body.position);
    const data = created?.data as Record<string, unknown>;
    assert.deepEqual(
      { ...data, startedAt: 'x', bytes: 'x' },
      { clipId: r.body.clipId, channelId: owner.id, username: 'clip_owner', broadcastId: vod, createdBy: viewer.id, createdByName: 'clip_viewer', title: 'The save', startOffsetMs: 8000, durationMs: Math.round(seconds * 1000), startedAt: 'x', fromLive: false, bytes: 'x' },
    );
    assert.ok((data['bytes'] as number) > 10_000);
    assert.ok(!Number.isNaN(Date.parse(data['startedAt'] as string)));

    // Exactly on a keyframe: no extra GOP.
    const exact = await h.http<CreateClipReply>('POST', '/clips', { broadcastId: vod, title: 'Exact', startSeconds: 20, durationSeconds: 6 }, bearer(viewer.token));
    assert.equal(exact.status, 201, JSON.stringify(exact.body));
    assert.equal(exact.body.startSeconds, 20);
    const exactSeconds = await probeSeconds(join(root, clipKey(exact.body.clipId, 'mp4')));
    assert.ok(exactSeconds >= 6 && exactSeconds <= 6 + GOP_SECONDS + 0.1, `clip lasts ${exactSeconds} s`);
  });

  it('clips the last seconds of a live broadcast; a live clip of an ended one is refused', async () => {
    const viewer = await register(h, 'clip_live');
    const r = await h.http<CreateClipReply>('POST', '/clips', { broadcastId: live, title: 'Just now', durationSeconds: 10 }, bearer(viewer.token));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.startSeconds, 20, 'the last 10 s of 30 s of stored media');
    assert.ok(r.body.durationSeconds >= 9.9 && r.body.durationSeconds <= 10 + GOP_SECONDS);
    const ev = (await clipEvents()).find((e) => (e.data as { clipId: string }).clipId === r.body.clipId);
    assert.equal((ev?.data as { fromLive: boolean }).fromLive, true);
    const endedLive = await h.http<{ code: string }>('POST', '/clips', { broadcastId: vod, title: 'Late', durationSeconds: 10 }, bearer(viewer.token));
    assert.deepEqual([endedLive.status, endedLive.body.code], [409, 'not_live']);
  });

  it('refuses bad bodies (400), unknown broadcasts (404) and ranges without media (409), changing nothing', async () => {
    const viewer = await register(h, 'clip_bad');
    const before = (await clipEvents()).length;
    const bad: [unknown, RegExp][] = [
      [{ broadcastId: vod, title: 'x', startSeconds: 0, durationSeconds: 4 }, /at least 5/],
      [{ broadcastId: vod, title: 'x', startSeconds: 0, durationSeconds: 61 }, /at most 60/],
      [{ broadcastId: vod, title: '  ', startSeconds: 0, durationSeconds: 10 }, /blank/],
      [{ broadcastId: 'nope', title: 'x', durationSeconds: 10 }, /broadcastId/],
      [{ broadcastId: vod, title: 'x', durationSeconds: 10, extra: true }, /extra|Unrecognized/i],
    ];
    for (const [body, reason] of bad) {
      const r = await h.http<{ message: string }>('POST', '/clips', body, bearer(viewer.token));
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.body.message, reason);
    }
    const unknown = await h.http<{ code: string }>('POST', '/clips', { broadcastId: randomUUID(), title: 'x', startSeconds: 0, durationSeconds: 10 }, bearer(viewer.token));
    assert.deepEqual([unknown.status, unknown.body.code], [404, 'broadcast_not_found']);
    const past = await h.http<{ code: string }>('POST', '/clips', { broadcastId: vod, title: 'x', startSeconds: 30, durationSeconds: 10 }, bearer(viewer.token));
    assert.deepEqual([past.status, past.body.code], [409, 'not_recorded']);
    assert.equal((await h.http('POST', '/clips', { broadcastId: vod, title: 'x', startSeconds: 0, durationSeconds: 10 })).status, 401);
    assert.equal((await clipEvents()).length, before);
    // None of these used the user's budget: a full budget of clips still goes through (next test counts the 6th).
  });

  it(`limits each user to ${CLIP_RATE_LIMIT.count} clips per ${CLIP_RATE_LIMIT.windowSeconds} s: the next gets 429 with Retry-After`, async () => {
    const viewer = await register(h, 'clip_rate');
    const body = { broadcastId: vod, title: 'Again', startSeconds: 0, durationSeconds: 5 };
    for (let i = 0; i < CLIP_RATE_LIMIT.count; i++) assert.equal((await h.http('POST', '/clips', body, bearer(viewer.token))).status, 201, `clip ${i + 1}`);
    const before = (await clipEvents()).length;
    const limited = await h.http<{ code: string }>('POST', '/clips', body, bearer(viewer.token));
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'clip_rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= CLIP_RATE_LIMIT.windowSeconds, `Retry-After ${retryAfter}`);
    assert.equal((await clipEvents()).length, before);
    // Another user has a budget of their own.
    const other = await register(h, 'clip_rate2');
    assert.equal((await h.http('POST', '/clips', body, bearer(other.token))).status, 201);
  });

  it('deletes a clip: a chat moderator and the creator may (event, files gone), a stranger may not', async () => {
    const creator = await register(h, 'clip_creator');
    const mod = await register(h, 'clip_mod');
    const stranger = await register(h, 'clip_stranger');
    assert.equal((await h.http('PUT', '/channels/clip_owner/chat/moderators/clip_mod', undefined, bearer(owner.token))).status, 200);
    const make = async () => (await h.http<CreateClipReply>('POST', '/clips', { broadcastId: vod, title: 'Del', startSeconds: 2, durationSeconds: 5 }, bearer(creator.token))).body.clipId;
    const deletions = () => h.allEvents().then((all) => all.filter((e) => e.type === 'ClipDeleted'));

    const c1 = await make();
    const refused = await h.http('DELETE', `/clips/${c1}`, undefined, bearer(stranger.token));
    assert.equal(refused.status, 403);
    assert.ok(existsSync(join(root, clipKey(c1, 'mp4'))));
    assert.equal((await deletions()).length, 0);

    const byMod = await h.http<{ ok: boolean; position: string }>('DELETE', `/clips/${c1}`, undefined, bearer(mod.token));
    assert.equal(byMod.status, 200, JSON.stringify(byMod.body));
    assert.ok(!existsSync(join(root, clipKey(c1, 'mp4'))) && !existsSync(join(root, clipKey(c1, 'jpg'))));
    const [d1] = await deletions();
    assert.deepEqual(d1?.data, { clipId: c1, channelId: owner.id, deletedBy: mod.id, reason: 'owner' });
    assert.equal(d1?.globalPosition, byMod.body.position);
    assert.equal((await h.http('DELETE', `/clips/${c1}`, undefined, bearer(mod.token))).status, 404, 'already deleted');

    const c2 = await make();
    assert.equal((await h.http('DELETE', `/clips/${c2}`, undefined, bearer(creator.token))).status, 200);
    assert.ok(!existsSync(join(root, clipKey(c2, 'mp4'))));
    const c3 = await make();
    assert.equal((await h.http('DELETE', `/clips/${c3}`, undefined, bearer(owner.token))).status, 200);
    assert.equal((await deletions()).length, 3);
    assert.equal((await h.http('DELETE', `/clips/${randomUUID()}`, undefined, bearer(owner.token))).status, 404);
  });

  it('bounds the work: 503 clip_busy when the process is at its cap, 503 clip_timeout when ffmpeg is too slow; neither uses the budget', async () => {
    const viewer = await register(h, 'clip_bounds');
    const body = { broadcastId: vod, title: 'Bounded', startSeconds: 0, durationSeconds: 60 };
    const before = (await clipEvents()).length;
    h.config.CLIP_CONCURRENCY = 0;
    try {
      for (let i = 0; i <= CLIP_RATE_LIMIT.count; i++) {
        const busy = await h.http<{ code: string }>('POST', '/clips', body, bearer(viewer.token));
        assert.deepEqual([busy.status, busy.body.code], [503, 'clip_busy']);
        assert.ok(Number(busy.headers.get('retry-after')) >= 1);
      }
    } finally {
      delete h.config.CLIP_CONCURRENCY;
    }
    h.config.CLIP_TIMEOUT_MS = 1;
    try {
      const slow = await h.http<{ code: string }>('POST', '/clips', body, bearer(viewer.token));
      assert.deepEqual([slow.status, slow.body.code], [503, 'clip_timeout']);
    } finally {
      delete h.config.CLIP_TIMEOUT_MS;
    }
    assert.equal((await clipEvents()).length, before);
    const ok = await h.http<CreateClipReply>('POST', '/clips', body, bearer(viewer.token));
    assert.equal(ok.status, 201, 'the refused attempts did not use the budget');
    assert.ok(ok.body.durationSeconds >= 29.9, 'a range past the end is cut at the end of the media (30 s)');
  });

  it('without EXT-X-INDEPENDENT-SEGMENTS, starts at the nearest earlier segment that begins with a keyframe', async () => {
    const viewer = await register(h, 'clip_gop');
    const b = randomUUID();
    await layRecording(root, byTime, { broadcastId: b, channelId: owner.id, username: 'clip_owner', startedAt: ended, endedAt: ended });
    const r = await h.http<CreateClipReply>('POST', '/clips', { broadcastId: b, title: 'Long GOP', startSeconds: 6.5, durationSeconds: 5 }, bearer(viewer.token));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.startSeconds, 4, 'the keyframe at 4 s (segments at 5 and 6 s start between keyframes)');
    const mp4 = join(root, clipKey(r.body.clipId, 'mp4'));
    const seconds = await probeSeconds(mp4);
    assert.ok(seconds >= 7.4 && seconds <= 7.6, `from 4 s to the asked end 11.5 s: ${seconds} s`);
  });
});
