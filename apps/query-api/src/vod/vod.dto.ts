/**
 * OpenAPI view of the recording shapes (issue 11). Each class `implements` its contract type of @eventcast/contracts
 * vod.ts, so the compiler holds the documented classes to the shapes the web reads; the shapes are defined there only.
 */
import { ApiProperty } from '@nestjs/swagger';
import {
  replayHiddenReasonSchema,
  type ActivityStrip,
  type ChatReplayMessage,
  type ChatReplayPage,
  type ClipList,
  type ClipView,
  type RecordedRendition,
  type ReplayHiddenReason,
  type ReplayModerationAction,
  type ReplayModerationList,
  type StorageUsage,
  type TimelineRun,
  type VodChapter,
  type VodDetail,
  type VodList,
  type VodSummary,
} from '@eventcast/contracts';

/** A chapter: a title change during the broadcast, from `offsetSeconds` of media time. */
export class VodChapterDto implements VodChapter {
  @ApiProperty({ example: 0 }) offsetSeconds!: number;
  @ApiProperty({ example: 'Speedrun practice' }) title!: string;
  @ApiProperty({ example: 'Games' }) category!: string;
}

/** A recorded rendition (bits/s, pixels, frames/s). */
export class RecordedRenditionDto implements RecordedRendition {
  @ApiProperty({ example: '720p' }) name!: string;
  @ApiProperty({ example: 'avc1.64001f,mp4a.40.2' }) codecs!: string;
  @ApiProperty({ type: Number, nullable: true }) width!: number | null;
  @ApiProperty({ type: Number, nullable: true }) height!: number | null;
  @ApiProperty({ type: Number, nullable: true }) frameRate!: number | null;
  @ApiProperty({ description: 'peak segment bit rate (BANDWIDTH)' }) bandwidth!: number;
  @ApiProperty({ description: 'AVERAGE-BANDWIDTH' }) averageBandwidth!: number;
  @ApiProperty() segments!: number;
  @ApiProperty() bytes!: number;
}

/** A run of contiguous media: media time `offsetMs` shows program date time `programDateTimeMs`, for `durationMs`. */
export class TimelineRunDto implements TimelineRun {
  @ApiProperty() offsetMs!: number;
  @ApiProperty({ description: 'ms since the epoch (EXT-X-PROGRAM-DATE-TIME)' }) programDateTimeMs!: number;
  @ApiProperty() durationMs!: number;
}

/** A VOD in a list. */
export class VodSummaryDto implements VodSummary {
  @ApiProperty({ format: 'uuid', description: 'the broadcast id' }) id!: string;
  @ApiProperty({ format: 'uuid' }) channelId!: string;
  @ApiProperty({ example: 'alice' }) username!: string;
  @ApiProperty({ description: 'title when the broadcast started' }) title!: string;
  @ApiProperty() category!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ format: 'date-time' }) endedAt!: string;
  @ApiProperty() durationSeconds!: number;
  @ApiProperty({ description: 'unique viewers of the live broadcast' }) views!: number;
  @ApiProperty({ type: String, nullable: true, example: 'http://localhost:8000/vod/<id>/thumbnail.jpg' }) thumbnailUrl!: string | null;
  @ApiProperty({ example: 'http://localhost:8000/vod/<id>/index.m3u8' }) playbackUrl!: string;
}

/** `GET /videos/:broadcastId`. */
export class VodDetailDto extends VodSummaryDto implements VodDetail {
  @ApiProperty({ type: [VodChapterDto] }) chapters!: VodChapterDto[];
  @ApiProperty({ type: [RecordedRenditionDto] }) renditions!: RecordedRenditionDto[];
  @ApiProperty({ type: [TimelineRunDto] }) timeline!: TimelineRunDto[];
}

/** `GET /channels/:username/videos`. */
export class VodListDto implements VodList {
  @ApiProperty({ type: [VodSummaryDto] }) items!: VodSummaryDto[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as `cursor` for the next (older) page' }) nextCursor!: string | null;
}

/** A replayed chat message. */
export class ChatReplayMessageDto implements ChatReplayMessage {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) senderId!: string;
  @ApiProperty() senderName!: string;
  @ApiProperty({ example: 'viewer', description: 'role when sent: owner, moderator, viewer' }) senderRole!: string;
  @ApiProperty({ type: [String], example: ['moderator'] }) badges!: string[];
  @ApiProperty() text!: string;
  @ApiProperty({ format: 'date-time' }) visibleAt!: string;
  @ApiProperty({ description: 'media time at which viewers first saw it, seconds' }) offsetSeconds!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'media time at which it left the chat live' }) hiddenAtOffsetSeconds!: number | null;
  @ApiProperty({ enum: replayHiddenReasonSchema.options, nullable: true }) hiddenReason!: ReplayHiddenReason | null;
}

/** A page of chat replay. */
export class ChatReplayPageDto implements ChatReplayPage {
  @ApiProperty({ type: [ChatReplayMessageDto] }) items!: ChatReplayMessageDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

/** A moderation action during the broadcast. */
export class ReplayModerationActionDto implements ReplayModerationAction {
  @ApiProperty() id!: string;
  @ApiProperty({ example: 'user_banned' }) action!: string;
  @ApiProperty() moderatorName!: string;
  @ApiProperty({ type: String, nullable: true }) targetName!: string | null;
  @ApiProperty({ type: String, nullable: true }) reason!: string | null;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty() offsetSeconds!: number;
}

/** `GET /videos/:broadcastId/moderation`. */
export class ReplayModerationListDto implements ReplayModerationList {
  @ApiProperty({ type: [ReplayModerationActionDto] }) items!: ReplayModerationActionDto[];
}

/** One bucket of the activity strip. */
export class ActivityBucketDto {
  @ApiProperty() offsetSeconds!: number;
  @ApiProperty() messages!: number;
  @ApiProperty({ type: Number, nullable: true }) viewers!: number | null;
}

/** `GET /videos/:broadcastId/activity`. */
export class ActivityStripDto implements ActivityStrip {
  @ApiProperty({ example: 60 }) bucketSeconds!: number;
  @ApiProperty({ type: [ActivityBucketDto] }) buckets!: ActivityBucketDto[];
}

/** A clip. */
export class ClipViewDto implements ClipView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) channelId!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ format: 'uuid' }) broadcastId!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ format: 'uuid' }) createdBy!: string;
  @ApiProperty() createdByName!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ description: "media time of the clip's start within the recording" }) startSeconds!: number;
  @ApiProperty() durationSeconds!: number;
  @ApiProperty() fromLive!: boolean;
  @ApiProperty({ example: 'http://localhost:8000/clips/<id>.mp4' }) videoUrl!: string;
  @ApiProperty({ example: 'http://localhost:8000/clips/<id>.jpg' }) thumbnailUrl!: string;
}

/** `GET /channels/:username/clips`. */
export class ClipListDto implements ClipList {
  @ApiProperty({ type: [ClipViewDto] }) items!: ClipViewDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

/** `GET /admin/storage`. */
export class StorageUsageDto implements StorageUsage {
  @ApiProperty() usedBytes!: number;
  @ApiProperty() recordingsBytes!: number;
  @ApiProperty() clipsBytes!: number;
  @ApiProperty() recordings!: number;
  @ApiProperty() clips!: number;
  @ApiProperty({ description: '0: kept forever' }) retentionDays!: number;
  @ApiProperty({ description: '0: no budget' }) budgetBytes!: number;
}
