/** Pure helpers: codec mapping, media info, redaction, ffmpeg arguments, config. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ingestRefusalReasonSchema, rtmpRefusalStatus } from '@eventcast/contracts';
import { loadIngestConfig } from './config.js';
import { ffmpegHlsArgs } from './hls-packager.js';
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

void describe('ffmpeg HLS arguments', () => {
  void it('uses the flags of ARCHITECTURE.md plus temp_file/omit_endlist, discont_start on restarts', () => {
    const a = ffmpegHlsArgs('rtmp://127.0.0.1:1935/live/k', '/m/alice', 1, false);
    const at = (name: string) => a[a.indexOf(name) + 1];
    assert.equal(at('-rw_timeout'), '3000000');
    assert.equal(at('-c'), 'copy');
    assert.equal(at('-hls_time'), '1');
    assert.equal(at('-hls_list_size'), '6');
    assert.equal(at('-hls_flags'), 'delete_segments+independent_segments+program_date_time+temp_file+omit_endlist');
    assert.equal(a.at(-1), '/m/alice/index.m3u8');
    const r = ffmpegHlsArgs('u', '/m/alice', 1, true);
    assert.match(r[r.indexOf('-hls_flags') + 1] ?? '', /discont_start/);
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
    assert.throws(() => loadIngestConfig({ INGEST_COMMAND_TIMEOUT_MS: 'x' }), /INGEST_COMMAND_TIMEOUT_MS/);
    assert.throws(() => loadIngestConfig({ INGEST_COMMAND_SUBJECT_PREFIX: 'a b' }), /PREFIX/);
  });

  void it('reads the RTMP limits (docs/contracts.md) and refuses 0 or more than RTMP can carry', () => {
    assert.deepEqual(loadIngestConfig({}).rtmpLimits, {
      handshakeTimeoutMs: 10_000, idleTimeoutMs: 15_000, maxMessageBytes: 65_536, maxMediaMessageBytes: 8_388_608,
      maxChunkStreams: 16, maxConnectionsPerIp: 10, maxConnections: 1000,
    });
    const c = loadIngestConfig({ INGEST_RTMP_HANDSHAKE_TIMEOUT_MS: '5000', INGEST_RTMP_MAX_CONNECTIONS_PER_IP: '3', INGEST_RTMP_MAX_CONNECTIONS: '50' });
    assert.equal(c.rtmpLimits.handshakeTimeoutMs, 5000);
    assert.equal(c.rtmpLimits.maxConnectionsPerIp, 3);
    assert.equal(c.rtmpLimits.maxConnections, 50);
    assert.throws(() => loadIngestConfig({ INGEST_RTMP_MAX_CONNECTIONS: '0' }), /INGEST_RTMP_MAX_CONNECTIONS /);
    assert.throws(() => loadIngestConfig({ INGEST_RTMP_IDLE_TIMEOUT_MS: '0' }), /INGEST_RTMP_IDLE_TIMEOUT_MS/);
    assert.throws(() => loadIngestConfig({ INGEST_RTMP_MAX_MESSAGE_BYTES: String(2 ** 24) }), /INGEST_RTMP_MAX_MESSAGE_BYTES .*16777215/);
    assert.throws(() => loadIngestConfig({ INGEST_RTMP_MAX_CHUNK_STREAMS: '-1' }), /INGEST_RTMP_MAX_CHUNK_STREAMS/);
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
