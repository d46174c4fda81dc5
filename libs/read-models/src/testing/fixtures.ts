/**
 * Realistic event fixtures: accounts, channel info, broadcasts.
 */
import { randomUUID } from 'node:crypto';
import type { LatencyMode } from '@eventcast/contracts';
import { streams, type MediaInfo, type RecordedEvent } from '@eventcast/events';
import type { MemoryEventLog } from './memory-event-log.js';

/** 720p30 H.264/AAC, as probed by ingest. */
export const MEDIA: MediaInfo = {
  videoCodec: 'h264',
  audioCodec: 'aac',
  width: 1280,
  height: 720,
  frameRate: 30,
  videoBitrateKbps: 2500,
  audioSampleRate: 48000,
  audioChannels: 2,
};

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';

/** Records AccountRegistered for `username`. @returns channel id and the event. */
export function register(log: MemoryEventLog, username: string): { channelId: string; event: RecordedEvent } {
  const channelId = randomUUID();
  const event = log.append(streams.account(channelId), 'AccountRegistered', { accountId: channelId, username, passwordHash: HASH });
  return { channelId, event };
}

/** Records ChannelInfoUpdated. */
export function updateInfo(log: MemoryEventLog, channelId: string, username: string, title: string, category: string): RecordedEvent {
  return log.append(streams.account(channelId), 'ChannelInfoUpdated', { channelId, username, title, category });
}

/** Records ChannelLatencyModeChanged. */
export function setLatencyMode(log: MemoryEventLog, channelId: string, username: string, latencyMode: LatencyMode): RecordedEvent {
  return log.append(streams.account(channelId), 'ChannelLatencyModeChanged', { channelId, username, latencyMode });
}

/** Records BroadcastStarted with a new broadcast id; `startedAt` = 12:00:00Z + log length seconds. */
export function start(log: MemoryEventLog, channelId: string, username: string): { broadcastId: string; event: RecordedEvent } {
  const broadcastId = randomUUID();
  const startedAt = new Date(Date.UTC(2026, 10, 22, 12, 0, 0) + log.events.length * 1000).toISOString();
  const event = log.append(streams.broadcast(channelId), 'BroadcastStarted', { broadcastId, channelId, username, startedAt, media: MEDIA });
  return { broadcastId, event };
}

/** Records BroadcastEnded (`unpublished`, 60 s; `endedAt` = 13:00:00Z + log length seconds). */
export function end(log: MemoryEventLog, channelId: string, username: string, broadcastId: string): RecordedEvent {
  const endedAt = new Date(Date.UTC(2026, 10, 22, 13, 0, 0) + log.events.length * 1000).toISOString();
  return log.append(streams.broadcast(channelId), 'BroadcastEnded', { broadcastId, channelId, username, reason: 'unpublished', endedAt, durationMs: 60_000 });
}
