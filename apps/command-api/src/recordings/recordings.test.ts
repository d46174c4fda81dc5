/**
 * Recordings on the command side (issue 11), real PostgreSQL, NATS and ffmpeg: the recording setting and the
 * broadcast-start reply's `record`; `ingest.broadcast-recorded` (idempotent, refused for an unknown broadcast); VOD
 * deletion by the owner (event, then files), an admin, and a stranger (403, nothing changes).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CommandPatterns, streams } from '@eventcast/events';
import { bearer, register, startHarness, type Harness } from '../test-support/harness.js';
import { encodeRendition, layRecording, media, recordBroadcast, recordedBody } from '../test-support/recording-fixture.js';

describe('recordings (command side)', () => {
  let h: Harness;
  let root: string;
  let rendition: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'eventcast-recordings-test-'));
    rendition = await encodeRendition(10);
    h = await startHarness({ RECORDINGS_DIR: root, EVENTCAST_ADMINS: ['rec_admin'], RECORDING_RETENTION_INTERVAL_MS: 0 });
  });
  after(async () => {
    await h?.stop();
    await rm(root, { recursive: true, force: true });
    await rm(rendition, { recursive: true, force: true });
  });

  it('PUT /me/recording: on by default, an event per change only; the broadcast-start reply says record', async () => {
    const { token, id } = await register(h, 'rec_setting');
    const auth = bearer(token);
    const b1 = randomUUID();
    assert.deepEqual(await h.request(CommandPatterns.BroadcastStart, { channelId: id, broadcastId: b1, media }), { ok: true, broadcastId: b1, record: true });
    await h.request(CommandPatterns.BroadcastEnd, { channelId: id, broadcastId: b1, reason: 'unpublished' });

    const off = await h.http<{ enabled: boolean; position: string }>('PUT', '/me/recording', { enabled: false }, auth);
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body.enabled, false);
    const changes = () => h.allEvents().then((all) => all.filter((e) => e.type === 'ChannelRecordingChanged' && e.streamName === streams.account(id)));
    const [changed] = await changes();
    assert.deepEqual(changed?.data, { channelId: id, username: 'rec_setting', enabled: false });
    assert.equal(off.body.position, changed?.globalPosition, 'the position of the event (read-your-writes)');
    const again = await h.http<{ enabled: boolean; position: string }>('PUT', '/me/recording', { enabled: false }, auth);
    assert.deepEqual(again.body, { enabled: false, position: off.body.position });
    assert.equal((await changes()).length, 1, 'unchanged: no event');

    const b2 = randomUUID();
    assert.deepEqual(await h.request(CommandPatterns.BroadcastStart, { channelId: id, broadcastId: b2, media }), { ok: true, broadcastId: b2, record: false });
    await h.request(CommandPatterns.BroadcastEnd, { channelId: id, broadcastId: b2, reason: 'unpublished' });
    assert.equal((await h.http('PUT', '/me/recording', { enabled: true }, auth)).body['enabled'], true);
    const b3 = randomUUID();
    assert.deepEqual(await h.request(CommandPatterns.BroadcastStart, { channelId: id, broadcastId: b3, media }), { ok: true, broadcastId: b3, record: true });

    for (const bad of [{}, { enabled: 'yes' }, { enabled: true, extra: 1 }]) {
      const r = await h.http<{ message: string }>('PUT', '/me/recording', bad, auth);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.match(r.body.message, /enabled|extra|Unrecognized/i);
    }
    assert.equal((await h.http('PUT', '/me/recording', { enabled: false })).status, 401);
    assert.equal((await changes()).length, 2);
  });

  it('ingest.broadcast-recorded: BroadcastRecorded once; unknown broadcasts and bad bodies are refused', async () => {
    const { id } = await register(h, 'rec_ingest');
    const b = randomUUID();
    await h.request(CommandPatterns.BroadcastStart, { channelId: id, broadcastId: b, media });
    await h.request(CommandPatterns.BroadcastEnd, { channelId: id, broadcastId: b, reason: 'unpublished' });
    const first = await h.request<{ ok: boolean; position: string | null }>(CommandPatterns.BroadcastRecorded, recordedBody(id, b));
    assert.equal(first.ok, true);
    assert.match(String(first.position), /^\d+$/);
    assert.deepEqual(await h.request(CommandPatterns.BroadcastRecorded, recordedBody(id, b)), { ok: true, position: null }, 'a retry is a no-op');
    const recorded = (await h.allEvents()).filter((e) => e.type === 'BroadcastRecorded' && e.streamName === streams.broadcast(id));
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0]?.globalPosition, first.position);
    assert.equal((recorded[0]?.data as { username: string }).username, 'rec_ingest');

    const unknown = await h.request<{ ok: boolean; code: string }>(CommandPatterns.BroadcastRecorded, recordedBody(id, randomUUID()));
    assert.deepEqual([unknown.ok, unknown.code], [false, 'broadcast_not_found']);
    const bad = await h.request<{ ok: boolean; code: string }>(CommandPatterns.BroadcastRecorded, { ...recordedBody(id, b), renditions: [] });
    assert.deepEqual([bad.ok, bad.code], [false, 'invalid_request']);
  });

  it('DELETE /videos/:id: a stranger gets 403 and nothing changes; the owner deletes (event, then files); an admin may too', async () => {
    const owner = await register(h, 'rec_owner');
    const stranger = await register(h, 'rec_stranger');
    const admin = await register(h, 'rec_admin');
    const b = await recordBroadcast(h, owner.id);
    const dir = await layRecording(root, rendition, { broadcastId: b, channelId: owner.id, username: 'rec_owner', startedAt: new Date().toISOString(), endedAt: new Date().toISOString() });
    const deletions = () => h.allEvents().then((all) => all.filter((e) => e.type === 'BroadcastRecordingDeleted'));

    const refused = await h.http('DELETE', `/videos/${b}`, undefined, bearer(stranger.token));
    assert.equal(refused.status, 403);
    assert.ok(existsSync(join(dir, 'source.m3u8')), 'files untouched');
    assert.equal((await deletions()).length, 0);
    assert.equal((await h.http('DELETE', `/videos/${b}`)).status, 401);
    assert.equal((await h.http('DELETE', '/videos/not-a-uuid', undefined, bearer(owner.token))).status, 400);

    const ok = await h.http<{ ok: boolean; position: string; bytesFreed: number }>('DELETE', `/videos/${b}`, undefined, bearer(owner.token));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.ok(ok.body.bytesFreed > 10_000, `bytes freed: ${ok.body.bytesFreed}`);
    assert.ok(!existsSync(dir), 'the recording directory is gone');
    const [deleted] = await deletions();
    assert.deepEqual(deleted?.data, { broadcastId: b, channelId: owner.id, reason: 'owner', deletedBy: owner.id, bytesFreed: ok.body.bytesFreed });
    assert.equal(deleted?.globalPosition, ok.body.position);
    assert.equal((await h.http('DELETE', `/videos/${b}`, undefined, bearer(owner.token))).status, 404, 'already deleted');

    // A platform admin deletes another channel's VOD (reason admin); a recording never reported as a VOD is 404.
    const b2 = await recordBroadcast(h, owner.id);
    await layRecording(root, rendition, { broadcastId: b2, channelId: owner.id, username: 'rec_owner', startedAt: new Date().toISOString(), endedAt: new Date().toISOString() });
    const byAdmin = await h.http('DELETE', `/videos/${b2}`, undefined, bearer(admin.token));
    assert.equal(byAdmin.status, 200, JSON.stringify(byAdmin.body));
    const byAdminEvent = (await deletions()).find((e) => (e.data as { broadcastId: string }).broadcastId === b2);
    assert.equal((byAdminEvent?.data as { reason: string } | undefined)?.reason, 'admin');
    const notRecorded = randomUUID();
    await layRecording(root, rendition, { broadcastId: notRecorded, channelId: owner.id, username: 'rec_owner', startedAt: new Date().toISOString(), endedAt: null });
    assert.equal((await h.http('DELETE', `/videos/${notRecorded}`, undefined, bearer(owner.token))).status, 404);
    assert.equal((await h.http('DELETE', `/videos/${randomUUID()}`, undefined, bearer(owner.token))).status, 404);
  });
});
