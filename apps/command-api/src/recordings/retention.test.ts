/**
 * The recordings retention job (issue 11 item 6), real PostgreSQL, NATS and ffmpeg: run by its timer (interval set
 * small), it deletes a VOD older than the retention (event with reason `retention`, then files) and the files of an
 * ended recording not kept as a VOD, and keeps the rest; metrics and a log line show it; `POST /admin/retention/run`
 * is for admins only; above the disk budget the oldest VOD goes (reason `disk_budget`); old clips go too.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { clipKey, type CreateClipReply } from '@eventcast/contracts';
import type { WireEvent } from '@eventcast/events';
import { bearer, register, startHarness, type Harness } from '../test-support/harness.js';
import { encodeRendition, layRecording, recordBroadcast } from '../test-support/recording-fixture.js';
import pg from 'pg';
import { RETENTION_LOCK_KEY, type RetentionSummary } from './retention.js';

const DAY_MS = 86_400_000;

/** Polls `fn` until it returns a truthy value (or fails after `ms`). */
async function until<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('recordings retention job', () => {
  let h: Harness;
  let root: string;
  let rendition: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'eventcast-retention-test-'));
    rendition = await encodeRendition(10);
    h = await startHarness({ RECORDINGS_DIR: root, EVENTCAST_ADMINS: ['ret_admin'], RECORDING_RETENTION_DAYS: 30, RECORDING_DISK_BUDGET_GB: 0, RECORDING_RETENTION_INTERVAL_MS: 300 });
  });
  after(async () => {
    await h?.stop();
    await rm(root, { recursive: true, force: true });
    await rm(rendition, { recursive: true, force: true });
  });

  const deletions = (type = 'BroadcastRecordingDeleted') => h.allEvents().then((all) => all.filter((e) => e.type === type));
  const of = (events: WireEvent[], key: string, id: string) => events.find((e) => (e.data as Record<string, unknown>)[key] === id);

  it('deletes VODs past the retention and recordings not kept, keeps the rest; metrics and a log line show it', async () => {
    const owner = await register(h, 'ret_owner');
    const day = (n: number) => new Date(Date.now() - n * DAY_MS).toISOString();
    const old = await recordBroadcast(h, owner.id);
    const oldDir = await layRecording(root, rendition, { broadcastId: old, channelId: owner.id, username: 'ret_owner', startedAt: day(41), endedAt: day(40) });
    const recent = await recordBroadcast(h, owner.id);
    const recentDir = await layRecording(root, rendition, { broadcastId: recent, channelId: owner.id, username: 'ret_owner', startedAt: day(3), endedAt: day(2) });
    const notKept = randomUUID();
    const notKeptDir = await layRecording(root, rendition, { broadcastId: notKept, channelId: owner.id, username: 'ret_owner', startedAt: day(1), endedAt: day(1), keep: false });
    const liveDir = await layRecording(root, rendition, { broadcastId: randomUUID(), channelId: owner.id, username: 'ret_owner', startedAt: day(0), endedAt: null, keep: false });

    const deleted = await until(async () => of(await deletions(), 'broadcastId', old), 'the old VOD to be deleted by the timer');
    assert.deepEqual({ ...(deleted.data as Record<string, unknown>), bytesFreed: 0 }, { broadcastId: old, channelId: owner.id, reason: 'retention', deletedBy: null, bytesFreed: 0 });
    assert.ok((deleted.data as { bytesFreed: number }).bytesFreed > 10_000);
    await until(() => !existsSync(oldDir) && !existsSync(notKeptDir), 'the files to go');
    assert.ok(existsSync(join(recentDir, 'source.m3u8')), 'a VOD within the retention stays');
    assert.ok(existsSync(join(liveDir, 'source.m3u8')), 'a live recording stays');
    assert.equal(of(await deletions(), 'broadcastId', recent), undefined);
    assert.equal(of(await deletions(), 'broadcastId', notKept), undefined, 'a recording never kept has no VOD to delete: files only');

    const metrics = await (await fetch(`http://127.0.0.1:${h.api.port}/metrics`)).text();
    assert.match(metrics, /eventcast_recording_deletions_total\{kind="vod",reason="retention"\} [1-9]/);
    assert.match(metrics, /eventcast_recording_deletions_total\{kind="files",reason="not_kept"\} [1-9]/);
    assert.match(metrics, /eventcast_recording_retention_runs_total\{outcome="done"\} [1-9]/);
    assert.match(metrics, /eventcast_recording_bytes_freed_total [1-9]/);
    assert.match(metrics, /eventcast_recording_storage_bytes [1-9]/);
    assert.match(metrics, /eventcast_recording_retention_last_run_timestamp_seconds [1-9]/);
    const line = h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'recording retention run' && (l['vodsDeleted'] as { retention: number }).retention > 0);
    assert.ok(line, 'one log line per run says what it did');
    assert.ok((line['bytesFreed'] as number) > 0);
  });

  it('POST /admin/retention/run: admins only; the disk budget deletes the oldest VOD first; old clips are deleted', async () => {
    const owner = await register(h, 'ret_budget');
    const admin = await register(h, 'ret_admin');
    assert.equal((await h.http('POST', '/admin/retention/run', undefined, bearer(owner.token))).status, 403);
    assert.equal((await h.http('POST', '/admin/retention/run')).status, 401);
    const run = await h.http<RetentionSummary>('POST', '/admin/retention/run', undefined, bearer(admin.token));
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.equal(typeof run.body.ran, 'boolean');
    assert.ok(run.body.usedBytes > 0 || !run.body.ran);

    // Two more VODs; a budget a little under what is stored: the oldest of all VODs goes, the newest stays.
    const older = await recordBroadcast(h, owner.id);
    const olderDir = await layRecording(root, rendition, { broadcastId: older, channelId: owner.id, username: 'ret_budget', startedAt: new Date(Date.now() - 20 * DAY_MS).toISOString(), endedAt: new Date(Date.now() - 20 * DAY_MS).toISOString() });
    const newer = await recordBroadcast(h, owner.id);
    const newerDir = await layRecording(root, rendition, { broadcastId: newer, channelId: owner.id, username: 'ret_budget', startedAt: new Date().toISOString(), endedAt: new Date().toISOString() });
    const clip = await h.http<CreateClipReply>('POST', '/clips', { broadcastId: newer, title: 'Old soon', startSeconds: 0, durationSeconds: 5 }, bearer(owner.token));
    assert.equal(clip.status, 201, JSON.stringify(clip.body));
    const summary = await h.http<RetentionSummary>('POST', '/admin/retention/run', undefined, bearer(admin.token));
    const used = summary.body.usedBytes;
    assert.ok(used > 0);
    h.config.RECORDING_DISK_BUDGET_GB = (used - 1000) / 1024 ** 3;
    const byBudget = await until(async () => of(await deletions(), 'broadcastId', older), 'the oldest VOD to go over budget');
    assert.equal((byBudget.data as { reason: string }).reason, 'disk_budget');
    await until(() => !existsSync(olderDir), 'its files to go');
    assert.ok(existsSync(join(newerDir, 'source.m3u8')), 'under budget again after the oldest: the newest stays');

    // Clips created longer ago than the retention go (a retention of ~1 s here; the VOD budget is lifted first).
    h.config.RECORDING_DISK_BUDGET_GB = 0;
    h.config.RECORDING_RETENTION_DAYS = 1 / 86_400;
    await sleep(1200);
    const clipGone = await until(async () => of(await deletions('ClipDeleted'), 'clipId', clip.body.clipId), 'the old clip to be deleted');
    assert.deepEqual(clipGone.data, { clipId: clip.body.clipId, channelId: owner.id, deletedBy: null, reason: 'retention' });
    await until(() => !existsSync(join(root, clipKey(clip.body.clipId, 'mp4'))), 'the clip files to go');
  });

  it('runs in one command-api at a time: while another holds the lock, a run does nothing (ran: false, counted as skipped)', async () => {
    const admin = await register(h, 'ret_admin2');
    h.config.EVENTCAST_ADMINS = [...h.config.EVENTCAST_ADMINS, 'ret_admin2'];
    const other = new pg.Client({ connectionString: h.db.url });
    await other.connect();
    try {
      assert.equal((await other.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [...RETENTION_LOCK_KEY])).rows[0]?.ok, true);
      const run = await until(async () => {
        const r = await h.http<RetentionSummary>('POST', '/admin/retention/run', undefined, bearer(admin.token));
        return r.status === 200 && !r.body.ran && r;
      }, 'a run that found the lock held');
      assert.equal(run.body.vodsDeleted.retention + run.body.clipsDeleted + run.body.leftoversDeleted, 0);
      const metrics = await (await fetch(`http://127.0.0.1:${h.api.port}/metrics`)).text();
      assert.match(metrics, /eventcast_recording_retention_runs_total\{outcome="skipped"\} [1-9]/);
    } finally {
      await other.end();
    }
    const again = await until(async () => {
      const r = await h.http<RetentionSummary>('POST', '/admin/retention/run', undefined, bearer(admin.token));
      return r.body.ran && r;
    }, 'a run once the lock is free');
    assert.equal(again.status, 200);
  });

  it('deletes the files of a VOD whose deletion is recorded but whose files stayed (a failed file deletion)', async () => {
    const owner = await register(h, 'ret_leftover');
    const b = await recordBroadcast(h, owner.id);
    const manifest = { broadcastId: b, channelId: owner.id, username: 'ret_leftover', startedAt: new Date().toISOString(), endedAt: new Date().toISOString() };
    await layRecording(root, rendition, manifest);
    assert.equal((await h.http('DELETE', `/videos/${b}`, undefined, bearer(owner.token))).status, 200);
    // The files come back as if their deletion had failed after the event was recorded.
    const dir = await layRecording(root, rendition, manifest);
    await until(() => !existsSync(dir), 'the leftover files to go');
    assert.equal((await deletions()).filter((e) => (e.data as { broadcastId: string }).broadcastId === b).length, 1, 'no second deletion event');
    const metrics = await (await fetch(`http://127.0.0.1:${h.api.port}/metrics`)).text();
    assert.match(metrics, /eventcast_recording_deletions_total\{kind="files",reason="deleted"\} [1-9]/);
  });
});
