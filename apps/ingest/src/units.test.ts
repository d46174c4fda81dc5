/** Pure helpers: codec mapping, media info, redaction, ffmpeg arguments, config. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ingestRefusalReasonSchema, rtmpRefusalStatus } from '@eventcast/contracts';
import { loadIngestConfig } from './config.js';
import { packagerArgs } from './live/ffmpeg-args.js';
import { AUTO_LADDER_MIN_CORES, ladderNames, parseRenditionsSetting, planRenditions } from './live/ladder.js';
import { audioCodecName, mediaInfoFromProbe, mediaInfoFromSession, videoCodecName } from './media-info.js';
import { redact, redactNmsMessage } from './redact.js';

const KEY = `ec_${'a'.repeat(32)}_${'B'.repeat(43)}`;

void describe('media info', () => {
  void it('maps FLV ids and Enhanced-RTMP FourCCs', () => {
    assert.equal(videoCodecName(7), 'h264');
    assert.equal(videoCodecName(0x68766331), 'hevc');
    assert.equal(videoCodecName('av01'), 'av1');
    assert.equal(videoCodecName(0), null);
    assert.equal(audioCodecName(10), 'aac');
    assert.equal(audioCodecName('Opus'), 'opus');
    assert.equal(audioCodecName(undefined), null);
  });

  void it('builds MediaInfo from NMS session fields (0 = unknown)', () => {
    const m = mediaInfoFromSession({
      videoCodec: 7, videoWidth: 1280, videoHeight: 720, videoFramerate: 29.97, videoDatarate: 0,
      audioCodec: 10, audioChannels: 2, audioSamplerate: 48000,
    });
    assert.deepEqual(m, {
      videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, frameRate: 29.97,
      videoBitrateKbps: null, audioSampleRate: 48000, audioChannels: 2,
    });
  });

  void it('builds MediaInfo from ffprobe JSON', () => {
    const m = mediaInfoFromProbe({
      streams: [
        { codec_type: 'video', codec_name: 'h264', width: 640, height: 360, avg_frame_rate: '30/1', bit_rate: '2500000' },
        { codec_type: 'audio', codec_name: 'aac', sample_rate: '44100', channels: 1 },
      ],
    });
    assert.deepEqual(m, {
      videoCodec: 'h264', audioCodec: 'aac', width: 640, height: 360, frameRate: 30,
      videoBitrateKbps: 2500, audioSampleRate: 44100, audioChannels: 1,
    });
  });
});

void describe('redaction', () => {
  void it('removes stream keys and NMS stream names', () => {
    assert.equal(redact(`rtmp://h/live/${KEY} failed`), 'rtmp://h/live/[redacted] failed');
    assert.equal(redact('x weird-key y', 'weird-key'), 'x [redacted] y');
    assert.equal(redactNmsMessage('RTMP session abc 1.2.3.4:5 start push /live/whatever'), 'RTMP session abc 1.2.3.4:5 start push /live/[redacted]');
    assert.equal(redactNmsMessage('invalid stream path characters: app=live, name=bad.key'), 'invalid stream path characters: app=live, name=[redacted]');
  });
});

void describe('packager ffmpeg arguments (live/ffmpeg-args.ts)', () => {
  void it('copies the source into fragmented MP4 on pipe:3 with the part duration and short probing', () => {
    const a = packagerArgs({ inputUrl: 'rtmp://127.0.0.1:1935/live/k', partSeconds: 0.2, keyframeSeconds: 1, renditions: planRenditions(['source'], 1080, false, null) });
    const at = (name: string) => a[a.indexOf(name) + 1];
    assert.equal(at('-rw_timeout'), '3000000');
    assert.equal(at('-analyzeduration'), '500000');
    assert.equal(at('-c:v'), 'copy');
    assert.equal(at('-movflags'), 'empty_moov+default_base_moof+frag_keyframe+skip_trailer');
    assert.equal(at('-frag_duration'), '200000');
    assert.equal(a.at(-1), 'pipe:3');
    assert.ok(!a.includes('-filter_complex'));
    assert.ok(!a.some((x) => x.startsWith('-hls')));
  });

  void it('decodes once for the ladder, aligns encoded keyframes with the source, one pipe per rendition', () => {
    const a = packagerArgs({ inputUrl: 'u', partSeconds: 0.2, keyframeSeconds: 1, renditions: planRenditions(['source', '720p', '480p'], 720, false, null) });
    assert.equal(a[a.indexOf('-filter_complex') + 1], '[0:v:0]split=1[s1];[s1]scale=-2:480,format=yuv420p[v1]');
    assert.deepEqual(a.filter((x) => x.startsWith('pipe:') && x !== 'pipe:1'), ['pipe:3', 'pipe:4']);
    assert.equal(a[a.indexOf('-force_key_frames') + 1], 'source');
    const r = packagerArgs({ inputUrl: 'u', partSeconds: 0.2, keyframeSeconds: 1, renditions: planRenditions(['source', '360p'], 720, true, 3000) });
    assert.deepEqual(r.filter((x, i) => r[i - 1] === '-force_key_frames'), ['expr:gte(t,n_forced*1)', 'expr:gte(t,n_forced*1)']);
    assert.equal(r[r.indexOf('-b:v') + 1], '3000k');
    assert.throws(() => packagerArgs({ inputUrl: 'u', partSeconds: 0.2, keyframeSeconds: 1, renditions: [] }), /source/);
  });
});

void describe('rendition ladder (live/ladder.ts)', () => {
  void it('parses INGEST_RENDITIONS and refuses unknown, duplicate or source-less lists', () => {
    assert.deepEqual(parseRenditionsSetting(undefined), { kind: 'auto' });
    assert.deepEqual(parseRenditionsSetting('source, 720p,360p'), { kind: 'list', names: ['source', '720p', '360p'] });
    assert.throws(() => parseRenditionsSetting('source,4k'), /INGEST_RENDITIONS.*4k/);
    assert.throws(() => parseRenditionsSetting('720p,source'), /start with source/);
    assert.throws(() => parseRenditionsSetting('source,720p,720p'), /twice/);
  });

  void it('auto is source only below the core threshold; steps never upscale', () => {
    assert.deepEqual(ladderNames({ kind: 'auto' }, AUTO_LADDER_MIN_CORES - 1), ['source']);
    assert.deepEqual(ladderNames({ kind: 'auto' }, AUTO_LADDER_MIN_CORES), ['source', '720p', '480p', '360p']);
    assert.deepEqual(planRenditions(['source', '1080p', '720p', '480p'], 720, false, null).map((p) => p.name), ['source', '480p']);
    assert.deepEqual(planRenditions(['source', '720p'], null, false, null).map((p) => p.name), ['source']);
  });

  void it('caps the re-encoded source at 1080 lines: scaled down, never up', () => {
    assert.equal(planRenditions(['source'], 2160, true, null)[0]!.height, 1080);
    assert.equal(planRenditions(['source'], 720, true, null)[0]!.height, null, 'a smaller source keeps its size');
    assert.equal(planRenditions(['source'], 2160, false, null)[0]!.height, null, 'passthrough is not scaled');
    // unknown height: ffmpeg caps it (scale to min(ih, 1080))
    const a = packagerArgs({ inputUrl: 'u', partSeconds: 0.2, keyframeSeconds: 1, renditions: planRenditions(['source'], null, true, null) });
    assert.equal(a[a.indexOf('-filter_complex') + 1], '[0:v:0]split=1[s0];[s0]scale=-2:min(ih\\,1080),format=yuv420p[v0]');
    const b = packagerArgs({ inputUrl: 'u', partSeconds: 0.2, keyframeSeconds: 1, renditions: planRenditions(['source'], 2160, true, null) });
    assert.equal(b[b.indexOf('-filter_complex') + 1], '[0:v:0]split=1[s0];[s0]scale=-2:1080,format=yuv420p[v0]');
  });
});

void describe('config', () => {
  void it('has the documented defaults and validates', () => {
    const c = loadIngestConfig({});
    assert.equal(c.INGEST_RTMP_PORT, 1935);
    assert.equal(c.INGEST_HTTP_PORT, 8000);
    assert.equal(c.INGEST_PUBLISH_GRACE_MS, 3000);
    assert.equal(c.commandTimeoutMs, 5000);
    assert.equal(c.hlsCleanupDelayMs, 10_000);
    assert.equal(c.commandSubjectPrefix, '');
    assert.equal(c.partSeconds, 0.2);
    assert.equal(c.keyframeFix, true);
    assert.equal(c.keyframeFixSeconds, 2);
    assert.equal(c.renditions[0], 'source');
    assert.equal(loadIngestConfig({ INGEST_KEYFRAME_FIX: 'false' }).keyframeFix, false);
    assert.deepEqual(loadIngestConfig({ INGEST_RENDITIONS: 'source,480p' }).renditions, ['source', '480p']);
    assert.throws(() => loadIngestConfig({ HLS_PART_SECONDS: '2' }), /HLS_PART_SECONDS/);
    assert.throws(() => loadIngestConfig({ INGEST_KEYFRAME_FIX: 'maybe' }), /INGEST_KEYFRAME_FIX/);
    assert.throws(() => loadIngestConfig({ INGEST_COMMAND_TIMEOUT_MS: 'x' }), /INGEST_COMMAND_TIMEOUT_MS/);
    assert.throws(() => loadIngestConfig({ INGEST_COMMAND_SUBJECT_PREFIX: 'a b' }), /PREFIX/);
  });

  void it('reads the RTMP limits (docs/contracts.md) and refuses 0 or more than RTMP can carry', () => {
    assert.deepEqual(loadIngestConfig({}).rtmpLimits, {
      handshakeTimeoutMs: 10_000, idleTimeoutMs: 15_000, maxMessageBytes: 65_536, maxMediaMessageBytes: 8_388_608,
      maxChunkStreams: 16, maxConnectionsPerIp: 10, maxConnections: 1000, maxPlayerBufferBytes: 8 * 1024 * 1024,
    });
    const c = loadIngestConfig({ INGEST_RTMP_HANDSHAKE_TIMEOUT_MS: '5000', INGEST_RTMP_MAX_CONNECTIONS_PER_IP: '3', INGEST_RTMP_MAX_CONNECTIONS: '50' });
    assert.equal(c.rtmpLimits.handshakeTimeoutMs, 5000);
    assert.equal(c.rtmpLimits.maxConnectionsPerIp, 3);
    assert.equal(c.rtmpLimits.maxConnections, 50);
    assert.throws(() => loadIngestConfig({ INGEST_RTMP_MAX_CONNECTIONS: '0' }), /INGEST_RTMP_MAX_CONNECTIONS /);
    assert.throws(() => loadIngestConfig({ INGEST_RTMP_IDLE_TIMEOUT_MS: '0' }), /INGEST_RTMP_IDLE_TIMEOUT_MS/);
    assert.throws(() => loadIngestConfig({ INGEST_RTMP_MAX_MESSAGE_BYTES: String(2 ** 24) }), /INGEST_RTMP_MAX_MESSAGE_BYTES .*16777215/);
    assert.throws(() => loadIngestConfig({ INGEST_RTMP_MAX_CHUNK_STREAMS: '-1' }), /INGEST_RTMP_MAX_CHUNK_STREAMS/);
    assert.throws(() => loadIngestConfig({ INGEST_RTMP_MAX_PLAYER_BUFFER_BYTES: '0' }), /INGEST_RTMP_MAX_PLAYER_BUFFER_BYTES/);
  });

  void it('reads the re-encode budget, the per-client held-request cap and rtmps verification', () => {
    const d = loadIngestConfig({});
    assert.ok(d.maxReencodes >= 1, 'at least one re-encode by default');
    assert.equal(d.hlsMaxHeldPerClient, 100);
    assert.equal(d.restream.tlsVerify, true);
    const c = loadIngestConfig({ INGEST_MAX_REENCODES: '0', INGEST_HLS_MAX_HELD_PER_CLIENT: '0', INGEST_RESTREAM_TLS_VERIFY: 'false' });
    assert.deepEqual([c.maxReencodes, c.hlsMaxHeldPerClient, c.restream.tlsVerify], [0, 0, false]);
    assert.throws(() => loadIngestConfig({ INGEST_MAX_REENCODES: '-1' }), /INGEST_MAX_REENCODES/);
  });
});

void describe('RTMP refusal statuses (@eventcast/contracts)', () => {
  void it('maps key problems to BadName and the rest to Rejected, the code leading the description', () => {
    for (const reason of ingestRefusalReasonSchema.options) {
      const st = rtmpRefusalStatus(reason);
      assert.equal(st.level, 'error');
      assert.ok(st.description.startsWith(`${st.code}: `), reason);
    }
    assert.equal(rtmpRefusalStatus('invalid_key').code, 'NetStream.Publish.BadName');
    assert.match(rtmpRefusalStatus('invalid_key').description, /rotated/);
    assert.equal(rtmpRefusalStatus('malformed_key').code, 'NetStream.Publish.BadName');
    assert.equal(rtmpRefusalStatus('already_live').code, 'NetStream.Publish.Rejected');
    assert.equal(rtmpRefusalStatus('command_side_unavailable').code, 'NetStream.Publish.Rejected');
    assert.equal(rtmpRefusalStatus('playback_not_offered').code, 'NetStream.Play.Failed');
  });
});
