/// <reference types="node" />
// The one test-only Node reference of this package: its sources stay browser-safe, which `tsconfig.browser.json`
// (types [] and no tests, run by the `typecheck` script) checks.
/**
 * The ingest health contracts: a report as the ingest makes it parses unchanged, the shapes query-api replies with
 * parse, and a drift (a missing or renamed field, a wrong enum value, a number as text) is refused with the path of
 * the field, which query-api reports as `unexpected answer (…)`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  adminBroadcastsSchema,
  ingestHealthReportSchema,
  packagerStatusSchema,
  type AdminBroadcasts,
  type IngestChannelHealth,
  type IngestHealthReport,
  type PackagerStatus,
} from './ingest-health.js';

const channelId = '4f6c3a52-1d2e-4c4b-9a8e-0b3f3c2a1d10';
const broadcastId = '9b1e2c3d-4e5f-4a6b-8c7d-1e2f3a4b5c6d';

const packager: PackagerStatus = {
  running: true,
  restarts: 0,
  progress: { frames: 1250, fps: 25.02, dropFrames: 0, dupFrames: 0, speed: 1, outTimeSeconds: 50.04, at: '2026-12-07T12:00:50.000Z' },
  mode: 'reencode',
  modeReason: 'keyframe interval above 2 s: no keyframe for 2.5 s; set Keyframe Interval to 1 or 2 s in OBS (Settings → Output → Advanced)',
  renditions: ['source', '480p'],
  parts: 250,
  malformed: 0,
  restartsTotal: 1,
  droppedFramesTotal: 3,
};

const channel: IngestChannelHealth = {
  channelId,
  username: 'alice',
  broadcastId,
  connected: true,
  publishingSince: '2026-12-07T12:00:00.000Z',
  media: { videoCodec: 'h264', audioCodec: 'aac', width: 640, height: 360, frameRate: 25, videoBitrateKbps: 600, audioSampleRate: 48000, audioChannels: 2 },
  input: {
    windowSeconds: 5,
    bitrateKbps: 664.2,
    videoBitrateKbps: 600.1,
    audioBitrateKbps: 64.1,
    fps: 25,
    keyframeIntervalSeconds: 2,
    maxKeyframeIntervalSeconds: 2.04,
    secondsSinceKeyframe: 0.4,
    videoFrames: 1250,
    keyframes: 26,
    secondsSinceLastPacket: 0,
  },
  packager,
};

const report: IngestHealthReport = { ingestId: 'ingest-a', at: '2026-12-07T12:00:50.123Z', channels: [channel] };

/** `report` as JSON with `edit` applied to its one channel (a drifted producer). */
function drifted(edit: (c: Record<string, unknown> & { packager: Record<string, unknown>; input: Record<string, unknown> }) => void): unknown {
  const body = JSON.parse(JSON.stringify(report)) as { channels: [Record<string, unknown> & { packager: Record<string, unknown>; input: Record<string, unknown> }] };
  edit(body.channels[0]);
  return body;
}

/** The first issue's path and message, as query-api reports it. */
function firstIssue(body: unknown): string {
  const r = ingestHealthReportSchema.safeParse(body);
  assert.equal(r.success, false, 'the drifted report is refused');
  const issue = r.error?.issues[0];
  assert.ok(issue);
  return `${issue.path.join('.')}: ${issue.message}`;
}

void describe('ingest health contracts', () => {
  void it('a report as the ingest makes it parses unchanged (through JSON)', () => {
    assert.deepEqual(ingestHealthReportSchema.parse(JSON.parse(JSON.stringify(report))), report);
  });

  void it('nulls where the ingest has nothing yet: no input, no progress, no broadcast, no media, rates not measurable', () => {
    const early: IngestHealthReport = {
      ...report,
      channels: [
        { ...channel, broadcastId: null, publishingSince: null, media: null, input: null, packager: { ...packager, progress: null, mode: 'passthrough', modeReason: null, renditions: [] } },
        {
          ...channel,
          channelId: '0c9d8e7f-6a5b-4c3d-8e1f-2a3b4c5d6e7f',
          username: 'bob',
          input: { ...channel.input!, windowSeconds: 0.4, bitrateKbps: null, videoBitrateKbps: null, audioBitrateKbps: null, fps: null, keyframeIntervalSeconds: null, maxKeyframeIntervalSeconds: null, secondsSinceKeyframe: null, videoFrames: 0, keyframes: 0, secondsSinceLastPacket: null },
          packager: { ...packager, progress: { frames: null, fps: null, dropFrames: null, dupFrames: null, speed: null, outTimeSeconds: null, at: '2026-12-07T12:00:01.000Z' } },
        },
      ],
    };
    assert.deepEqual(ingestHealthReportSchema.parse(early), early);
    assert.deepEqual(ingestHealthReportSchema.parse({ ingestId: 'ingest-a', at: report.at, channels: [] }).channels, []);
  });

  void it('a drift is refused with the path of the field', () => {
    assert.match(firstIssue(drifted((c) => delete c.packager['mode'])), /^channels\.0\.packager\.mode: /);
    assert.match(firstIssue(drifted((c) => (c.packager['mode'] = 'copy'))), /^channels\.0\.packager\.mode: /);
    assert.match(firstIssue(drifted((c) => delete c.packager['modeReason'])), /^channels\.0\.packager\.modeReason: /);
    assert.match(firstIssue(drifted((c) => (c.packager['renditions'] = 'source'))), /^channels\.0\.packager\.renditions: /);
    assert.match(firstIssue(drifted((c) => (c.input['bitrateKbps'] = '664.2'))), /^channels\.0\.input\.bitrateKbps: /);
    assert.match(firstIssue(drifted((c) => (c.input['keyframes'] = -1))), /^channels\.0\.input\.keyframes: /);
    assert.match(firstIssue(drifted((c) => (c['broadcastId'] = 'not-a-uuid'))), /^channels\.0\.broadcastId: /);
    assert.match(firstIssue(drifted((c) => (c['publishingSince'] = 1765108800000))), /^channels\.0\.publishingSince: /);
    assert.match(firstIssue({ ingestId: 'ingest-a', at: report.at }), /^channels: /);
    assert.match(firstIssue({ status: 'ok' }), /^ingestId: /);
  });

  void it('a field the contract does not know is dropped, not refused (a newer ingest may add one)', () => {
    const parsed = packagerStatusSchema.parse({ ...packager, gpu: 'none' });
    assert.deepEqual(parsed, packager);
  });

  void it("query-api's GET /admin/broadcasts reply: a broadcast with health, one without and the nodes' outcomes", () => {
    const reply: AdminBroadcasts = {
      at: '2026-12-07T12:00:51.000Z',
      broadcasts: [
        {
          broadcastId,
          channelId,
          username: 'alice',
          title: 'Speedruns',
          category: '',
          startedAt: '2026-12-07T12:00:00.000Z',
          media: channel.media,
          health: { ingestId: 'ingest-a', connected: true, publishingSince: channel.publishingSince, input: channel.input, packager },
          healthNote: null,
        },
        {
          broadcastId: '1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d',
          channelId: '0c9d8e7f-6a5b-4c3d-8e1f-2a3b4c5d6e7f',
          username: 'bob',
          title: '',
          category: '',
          startedAt: '2026-12-07T11:00:00.000Z',
          media: null,
          health: null,
          healthNote: 'not reported by the ingest node (unreachable: http://127.0.0.1:9)',
        },
      ],
      ingest: [
        { url: 'http://127.0.0.1:8000', ingestId: 'ingest-a', reachable: true, error: null },
        { url: 'http://127.0.0.1:8001', ingestId: null, reachable: true, error: 'unexpected answer (channels.0.packager.mode: Invalid option: expected one of "passthrough"|"reencode")' },
        { url: 'http://127.0.0.1:9', ingestId: null, reachable: false, error: 'ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:9)' },
      ],
    };
    assert.deepEqual(adminBroadcastsSchema.parse(JSON.parse(JSON.stringify(reply))), reply);
    const partial = JSON.parse(JSON.stringify(reply)) as { broadcasts: { health: { packager: Record<string, unknown> } | null }[] };
    // The partial packager query-api used to rebuild ({ running, restarts, progress }) no longer passes.
    partial.broadcasts[0]!.health!.packager = { running: true, restarts: 0, progress: null };
    assert.equal(adminBroadcastsSchema.safeParse(partial).success, false);
  });
});
