/**
 * `GET /admin/health` of a real ingest process (real ffmpeg publisher, node-media-server, packaging ffmpeg and NATS;
 * the command side is the fake of the ingest tests): 401 without/with a bad token, 403 for a non-admin, and for an
 * admin the measured input of a 25 fps publish with a 2 s GOP (`-g 50`) at ~600 kbit/s: bitrate > 0 and near the
 * target, fps ≈ 25, keyframe interval ≈ 2 s, the packager's ffmpeg progress; the channel is gone after the end.
 * Every 200 answer is parsed with the contract's `ingestHealthReportSchema` (@eventcast/contracts), the schema
 * query-api validates it with: a field the ingest drops, renames or fills wrongly fails here.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { ingestHealthReportSchema, type IngestHealthReport } from '@eventcast/contracts';
import { CommandPatterns } from '@eventcast/events';
import { generateStreamKey } from '@eventcast/platform';
import { publishTestStream, rawRequest, waitUntil } from './test-support/harness.js';
import { singleChannelHandlers, startIngestRun, testSubjectPrefix, type IngestRun } from './test-support/ingest-run.js';

const SECRET = `admin-health-test-secret-${randomBytes(8).toString('hex')}`;
const channelId = randomUUID();
const username = `h_${randomBytes(4).toString('hex')}`;
const key = generateStreamKey(channelId);
const prefix = testSubjectPrefix();

const sign = (username: string, secret = SECRET) =>
  new SignJWT({ username }).setProtectedHeader({ alg: 'HS256' }).setSubject(randomUUID()).setExpirationTime('5m').sign(new TextEncoder().encode(secret));

void describe('ingest GET /admin/health (real ffmpeg, NMS and NATS)', { timeout: 90_000 }, () => {
  let run: IngestRun;
  before(async () => {
    run = await startIngestRun({
      prefix,
      handlers: singleChannelHandlers({ key, channelId, username }),
      tmpPrefix: 'ingest-admin-health-',
      env: { JWT_SECRET: SECRET, EVENTCAST_ADMINS: 'someone, Root_Admin' },
    });
  });
  after(() => run?.stop());

  /** The answer: a 200 body parsed with the contract (throws on a drift), or the error's message. */
  const health = async (token?: string): Promise<{ status: number; body: IngestHealthReport | null; message: string | undefined }> => {
    const r = await rawRequest(run.httpPort, '/admin/health', 'GET', token ? { authorization: `Bearer ${token}` } : {});
    const json: unknown = JSON.parse(r.body.toString());
    if (r.status !== 200) return { status: r.status, body: null, message: (json as { message?: string }).message };
    return { status: r.status, body: ingestHealthReportSchema.parse(json), message: undefined };
  };

  void it('401 without or with a bad token, 403 for a non-admin, 200 with no channels for an admin', async () => {
    const none = await health();
    assert.equal(none.status, 401);
    assert.equal(none.message, 'missing bearer token');
    const forged = await health(await sign('root_admin', 'another-secret-of-enough-length'));
    assert.equal(forged.status, 401);
    assert.equal(forged.message, 'invalid or expired token');
    const user = await health(await sign('plain_user'));
    assert.equal(user.status, 403);
    assert.match(user.message ?? '', /only platform admins/);
    const admin = await health(await sign('root_admin'));
    assert.equal(admin.status, 200);
    assert.equal(admin.body?.ingestId, `test-${prefix}`);
    assert.deepEqual(admin.body?.channels, []);
  });

  void it('measures bitrate, fps and keyframe interval of a live publish', async () => {
    const token = await sign('root_admin');
    const pub = publishTestStream(run.rtmpUrl(key), 14, { fps: 25, keyframeEvery: 50, videoKbps: 600, audioKbps: 64 });
    await run.fake.waitFor(CommandPatterns.BroadcastStart);
    // Wait for a full window (5 s) and a few keyframe intervals.
    const ch = await waitUntil(
      'a full measurement window',
      async () => {
        const r = await health(token);
        const c = r.body?.channels.find((x) => x.username === username);
        return c?.input && c.input.windowSeconds >= 5 && c.input.keyframes >= 4 && c.packager.progress ? c : undefined;
      },
      30_000,
    );
    assert.equal(ch.channelId, channelId);
    assert.equal(ch.connected, true);
    assert.ok(ch.broadcastId, 'the broadcast was recorded');
    assert.equal(ch.media?.width, 640);
    assert.equal(ch.media?.height, 360);
    const input = ch.input!;
    assert.ok(input.bitrateKbps !== null && input.bitrateKbps > 0, `bitrate ${input.bitrateKbps}`);
    // 600k video + 64k audio: generous bounds (x264 rate control over 5 s, payload only).
    assert.ok(input.bitrateKbps > 250 && input.bitrateKbps < 1500, `bitrate ${input.bitrateKbps} kbit/s`);
    assert.ok(input.audioBitrateKbps !== null && input.audioBitrateKbps > 20, `audio ${input.audioBitrateKbps}`);
    assert.ok(input.fps !== null && Math.abs(input.fps - 25) < 1, `fps ${input.fps}`);
    assert.ok(input.keyframeIntervalSeconds !== null && Math.abs(input.keyframeIntervalSeconds - 2) < 0.15, `keyframe interval ${input.keyframeIntervalSeconds}`);
    assert.ok(input.maxKeyframeIntervalSeconds !== null && input.maxKeyframeIntervalSeconds < 2.2);
    assert.equal(ch.packager.running, true);
    assert.ok((ch.packager.progress?.frames ?? 0) > 0, 'packager progress read from ffmpeg -progress');
    assert.equal(ch.packager.progress?.dropFrames, 0);
    // A 2-s GOP needs no keyframe fix: the source is copied, with its rendition ladder.
    assert.equal(ch.packager.mode, 'passthrough');
    assert.equal(ch.packager.modeReason, null);
    assert.ok(ch.packager.renditions.includes('source'), `renditions ${ch.packager.renditions.join(',')}`);
    assert.ok(ch.packager.parts > 0, 'parts handed to the live media store');

    assert.equal(await pub.exit, 0, pub.stderr());
    await run.fake.waitFor(CommandPatterns.BroadcastEnd);
    await waitUntil('channel gone from the health', async () => ((await health(token)).body?.channels.some((c) => c.username === username) ? undefined : true), 20_000);
  });
});
