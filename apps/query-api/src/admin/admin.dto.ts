/**
 * Response shapes of the admin queries (docs/contracts.md "Admin pages"). Positions are decimal strings (global
 * positions exceed 2^53 in principle), times ISO-8601, rates per second, bitrates kbit/s.
 */
import { ApiProperty } from '@nestjs/swagger';
import { MediaInfoDto } from '../common/media.dto.js';

/** Progress of a blue/green rebuild (`eventcast-ops projections rebuild`). */
export class RebuildProgressDto {
  @ApiProperty({ enum: ['running', 'interrupted', 'failed'], description: '`interrupted`: no progress for 30 s (rerun to resume)' }) state!: string;
  @ApiProperty({ type: String, nullable: true, description: 'build checkpoint (global position)' }) position!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'store head the build heads for' }) head!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: '0–100' }) percent!: number | null;
  @ApiProperty({ type: Number, nullable: true }) eventsPerSecond!: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) updatedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
}

/** One projection's status. */
export class ProjectionStatusDto {
  @ApiProperty({ example: 'chat-messages' }) name!: string;
  @ApiProperty({ enum: ['running', 'rebuilding', 'failed'] }) state!: string;
  @ApiProperty({ type: String, nullable: true, description: "the live projector's last error while `failed`" }) error!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'global position of the last event applied; null before the first' }) checkpoint!: string | null;
  @ApiProperty({ description: "the event store's head (global position)" }) head!: string;
  @ApiProperty({ description: 'head − checkpoint' }) lagEvents!: string;
  @ApiProperty({ description: "seconds between the checkpoint's event and the head's event (0 when caught up)" }) lagSeconds!: number;
  @ApiProperty({ type: RebuildProgressDto, nullable: true }) rebuild!: RebuildProgressDto | null;
}

/** Reply of `GET /admin/projections`. */
export class ProjectionsStatusDto {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ description: "the event store's head (global position)" }) head!: string;
  @ApiProperty({ type: [ProjectionStatusDto] }) projections!: ProjectionStatusDto[];
}

/** One entry of the audit trail. */
export class AuditEntryDto {
  @ApiProperty({ format: 'uuid', description: 'event id' }) id!: string;
  @ApiProperty({ description: 'global position; page with `?before=`' }) globalPosition!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ enum: ['moderation', 'account', 'ingest', 'integrations'] }) category!: string;
  @ApiProperty({ example: 'user_banned', description: 'readable action (moderation log actions, `account_registered`, `stream_key_rotated`, `publish_rejected`, `api_token_created`, …)' })
  action!: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) channelId!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'alice' }) channel!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'null for automatic actions' }) actorId!: string | null;
  @ApiProperty({ type: String, nullable: true, description: '`AutoMod` for blocked-term refusals' }) actor!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'user, token, webhook or key id' }) targetId!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'user name, token name, webhook URL' }) target!: string | null;
  @ApiProperty({ type: String, nullable: true }) reason!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'public facts of the event (never secrets)' }) details!: Record<string, unknown>;
}

/** Reply of `GET /admin/audit`. */
export class AuditPageDto {
  @ApiProperty({ type: [AuditEntryDto], description: 'newest first' }) entries!: AuditEntryDto[];
  @ApiProperty({ type: String, nullable: true, description: '`before` of the next (older) page; null on the last page' }) nextBefore!: string | null;
}

/** Input measured by the ingest node from the publisher's RTMP packets. */
export class InputHealthDto {
  @ApiProperty({ description: 'seconds the rates are measured over (≤ 5)' }) windowSeconds!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'audio + video payload, kbit/s' }) bitrateKbps!: number | null;
  @ApiProperty({ type: Number, nullable: true }) videoBitrateKbps!: number | null;
  @ApiProperty({ type: Number, nullable: true }) audioBitrateKbps!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'video frames per second (media time)' }) fps!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'mean seconds between the last 5 keyframes' }) keyframeIntervalSeconds!: number | null;
  @ApiProperty({ type: Number, nullable: true }) maxKeyframeIntervalSeconds!: number | null;
  @ApiProperty({ type: Number, nullable: true }) secondsSinceKeyframe!: number | null;
  @ApiProperty() videoFrames!: number;
  @ApiProperty() keyframes!: number;
  @ApiProperty({ type: Number, nullable: true }) secondsSinceLastPacket!: number | null;
}

/** The packaging ffmpeg's last `-progress` block. */
export class PackagerProgressDto {
  @ApiProperty({ type: Number, nullable: true }) frames!: number | null;
  @ApiProperty({ type: Number, nullable: true }) fps!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'frames ffmpeg dropped (0 with `-c copy`)' }) dropFrames!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'frames ffmpeg duplicated (0 with `-c copy`)' }) dupFrames!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'relative to real time; < 1 = falling behind' }) speed!: number | null;
  @ApiProperty({ type: Number, nullable: true }) outTimeSeconds!: number | null;
  @ApiProperty({ format: 'date-time' }) at!: string;
}

/** The HLS packager of a channel. */
export class PackagerHealthDto {
  @ApiProperty() running!: boolean;
  @ApiProperty({ description: 'restarts since the publisher connected' }) restarts!: number;
  @ApiProperty({ type: PackagerProgressDto, nullable: true }) progress!: PackagerProgressDto | null;
}

/** What an ingest node reports about one live channel. */
export class IngestHealthDto {
  @ApiProperty({ description: '`INGEST_ID` of the node' }) ingestId!: string;
  @ApiProperty({ description: 'publisher connected (false in the reconnect grace period)' }) connected!: boolean;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) publishingSince!: string | null;
  @ApiProperty({ type: InputHealthDto, nullable: true }) input!: InputHealthDto | null;
  @ApiProperty({ type: PackagerHealthDto }) packager!: PackagerHealthDto;
}

/** One live broadcast with its ingest health. */
export class AdminBroadcastDto {
  @ApiProperty({ format: 'uuid' }) broadcastId!: string;
  @ApiProperty({ format: 'uuid' }) channelId!: string;
  @ApiProperty({ example: 'alice' }) username!: string;
  @ApiProperty() title!: string;
  @ApiProperty() category!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ type: MediaInfoDto, nullable: true, description: 'announced/probed at the start' }) media!: MediaInfoDto | null;
  @ApiProperty({ type: IngestHealthDto, nullable: true, description: 'null when no reachable ingest node reports the channel (see `healthNote`)' })
  health!: IngestHealthDto | null;
  @ApiProperty({ type: String, nullable: true, description: 'why `health` is null' }) healthNote!: string | null;
}

/** The answer of one ingest node. */
export class IngestNodeDto {
  @ApiProperty({ example: 'http://127.0.0.1:8000' }) url!: string;
  @ApiProperty({ type: String, nullable: true }) ingestId!: string | null;
  @ApiProperty() reachable!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'why it could not be read' }) error!: string | null;
}

/** Reply of `GET /admin/broadcasts`. */
export class AdminBroadcastsDto {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ type: [AdminBroadcastDto], description: 'newest first' }) broadcasts!: AdminBroadcastDto[];
  @ApiProperty({ type: [IngestNodeDto] }) ingest!: IngestNodeDto[];
}
