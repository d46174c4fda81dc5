/**
 * Recordings, VODs and clips (issue 11):
 * - `ChannelRecordingChanged` (stream `account-<channelId>`): whether the channel keeps its broadcasts as VODs
 *   (default on: a channel without the event records);
 * - `BroadcastRecorded`, `BroadcastRecordingDeleted` (stream `broadcast-<channelId>`, the broadcast aggregate): a
 *   broadcast's recording became a VOD, and later left storage (owner, retention job, disk budget);
 * - `ClipCreated`, `ClipDeleted` (stream `clip-<clipId>`): a clip of a live broadcast or a VOD.
 * Shapes of the media timeline and renditions are the contract's (`@eventcast/contracts` vod.ts).
 */
import { z } from 'zod';
import {
  CLIP_TITLE_MAX_LENGTH,
  recordedRenditionSchema,
  recordingDeletionReasonSchema,
  textRefinement,
  timelineSchema,
} from '@eventcast/contracts';

const uuid = z.uuid();
const iso = z.iso.datetime({ offset: true });
const username = z.string().regex(/^[a-z0-9_]{3,24}$/);

export const recordingEventSchemas = {
  ChannelRecordingChanged: z.object({ channelId: uuid, username, enabled: z.boolean() }),
  BroadcastRecorded: z.object({
    broadcastId: uuid,
    channelId: uuid,
    username,
    /** Media duration of the VOD, ms (sum of its segments). */
    durationMs: z.number().int().nonnegative(),
    /** Bytes in storage over all renditions. */
    bytes: z.number().int().nonnegative(),
    renditions: z.array(recordedRenditionSchema).min(1).max(16),
    timeline: timelineSchema,
    thumbnail: z.boolean(),
    /** When the recording was complete (ISO-8601). */
    recordedAt: iso,
  }),
  BroadcastRecordingDeleted: z.object({
    broadcastId: uuid,
    channelId: uuid,
    reason: recordingDeletionReasonSchema,
    /** The account that deleted it; null for the retention job. */
    deletedBy: uuid.nullable(),
    bytesFreed: z.number().int().nonnegative(),
  }),
  ClipCreated: z.object({
    clipId: uuid,
    channelId: uuid,
    username,
    broadcastId: uuid,
    createdBy: uuid,
    createdByName: username,
    title: z.string().min(1).max(CLIP_TITLE_MAX_LENGTH).superRefine(textRefinement()),
    /** Media time of the clip's first frame within the recording, ms. */
    startOffsetMs: z.number().int().nonnegative(),
    durationMs: z.number().int().positive(),
    /** Wall-clock time of the clip's first frame (EXT-X-PROGRAM-DATE-TIME), ISO-8601: maps the chat onto the clip. */
    startedAt: iso,
    fromLive: z.boolean(),
    bytes: z.number().int().nonnegative(),
  }),
  ClipDeleted: z.object({ clipId: uuid, channelId: uuid, deletedBy: uuid.nullable(), reason: recordingDeletionReasonSchema }),
} as const;
