/**
 * Response shapes of the admin queries (docs/contracts.md "Admin pages"). Positions are decimal strings (global
 * positions exceed 2^53 in principle), times ISO-8601, rates per second, bitrates kbit/s.
 *
 * The classes are the OpenAPI view of the contract (admin.ts and ingest-health.ts of @eventcast/contracts):
 * each `implements` its contract type, so the compiler holds the documented classes to the shapes the ingest sends
 * and the web reads.
 */
import { ApiProperty } from '@nestjs/swagger';
import {
  AUDIT_CATEGORIES,
  packagerModeSchema,
  type AdminBroadcast,
  type AdminBroadcasts,
  type AuditCategory,
  type AuditEntry,
  type AuditPage,
  type BroadcastIngestHealth,
  type IngestNodeStatus,
  type InputHealth,
  type PackagerMode,
  type PackagerProgress,
  type PackagerStatus,
  type ProjectionStatus,
  type ProjectionsStatus,
  type RebuildProgress,
} from '@eventcast/contracts';
import { MediaInfoDto } from '../common/media.dto.js';

/** Progress of a blue/green rebuild (`eventcast-ops projections rebuild`). */
export class RebuildProgressDto implements RebuildProgress {
  @ApiProperty({ enum: ['running', 'interrupted', 'failed'], description: '`interrupted`: no progress for 30 s (rerun to resume)' }) state!: RebuildProgress['state'];
  @ApiProperty({ type: String, nullable: true, description: 'build checkpoint (global position)' }) position!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'store head the build heads for' }) head!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: '0–100' }) percent!: number | null;
  @ApiProperty({ type: Number, nullable: true }) eventsPerSecond!: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) updatedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
}

/** One projection's status. */
export class ProjectionStatusDto implements ProjectionStatus {
  @ApiProperty({ example: 'chat-messages' }) name!: string;
  @ApiProperty({ enum: ['running', 'rebuilding', 'failed'] }) state!: ProjectionStatus['state'];
  @ApiProperty({ type: String, nullable: true, description: "the live projector's last error while `failed`" }) error!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'global position of the last event applied; null before the first' }) checkpoint!: string | null;
  @ApiProperty({ description: "the event store's head (global position)" }) head!: string;
  @ApiProperty({ description: 'head − checkpoint' }) lagEvents!: string;
  @ApiProperty({ description: "seconds between the checkpoint's event and the head's event (0 when caught up)" }) lagSeconds!: number;
  @ApiProperty({ type: RebuildProgressDto, nullable: true }) rebuild!: RebuildProgressDto | null;
}

/** Reply of `GET /admin/projections`. */
export class ProjectionsStatusDto implements ProjectionsStatus {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ description: "the event store's head (global position)" }) head!: string;
  @ApiProperty({ type: [ProjectionStatusDto] }) projections!: ProjectionStatusDto[];
}

/** One entry of the audit trail. */
export class AuditEntryDto implements AuditEntry {
  @ApiProperty({ format: 'uuid', description: 'event id' }) id!: string;
  @ApiProperty({ description: 'global position; page with `?before=`' }) globalPosition!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ enum: AUDIT_CATEGORIES }) category!: AuditCategory;
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
export class AuditPageDto implements AuditPage {
  @ApiProperty({ type: [AuditEntryDto], description: 'newest first' }) entries!: AuditEntryDto[];
  @ApiProperty({ type: String, nullable: true, description: '`before` of the next (older) page; null on the last page' }) nextBefore!: string | null;
}

/** Input measured by the ingest node from the publisher's RTMP packets (contract: `inputHealthSchema`). */
export class InputHealthDto implements InputHealth {
  @ApiProperty({ description: 'seconds the rates are measured over (≤ 5)' }) windowSeconds!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'audio + video payload, kbit/s' }) bitrateKbps!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'video payload, kbit/s' }) videoBitrateKbps!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'audio payload, kbit/s' }) audioBitrateKbps!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'video frames per second (media time)' }) fps!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'mean seconds between the last 5 keyframes' }) keyframeIntervalSeconds!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'largest of those intervals, seconds' }) maxKeyframeIntervalSeconds!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'wall-clock seconds since the last keyframe' }) secondsSinceKeyframe!: number | null;
  @ApiProperty({ description: 'video frames since the publisher session started' }) videoFrames!: number;
  @ApiProperty({ description: 'keyframes since the publisher session started' }) keyframes!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'wall-clock seconds since the last media packet' }) secondsSinceLastPacket!: number | null;
}

/** The packaging ffmpeg's last `-progress` block (contract: `packagerProgressSchema`). */
export class PackagerProgressDto implements PackagerProgress {
  @ApiProperty({ type: Number, nullable: true, description: 'frames written by this ffmpeg run' }) frames!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: "ffmpeg's output frames per second" }) fps!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'frames ffmpeg dropped (0 with `-c copy`)' }) dropFrames!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'frames ffmpeg duplicated (0 with `-c copy`)' }) dupFrames!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'relative to real time; < 1 = falling behind' }) speed!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'output time, seconds' }) outTimeSeconds!: number | null;
  @ApiProperty({ format: 'date-time', description: 'when the ingest read the block' }) at!: string;
}

/** The HLS packager of a channel (contract: `packagerStatusSchema`). */
export class PackagerHealthDto implements PackagerStatus {
  @ApiProperty({ description: 'an ffmpeg process is alive' }) running!: boolean;
  @ApiProperty({ description: 'restarts of the current restart budget (reset after a minute of stable running and on a reconnect)' }) restarts!: number;
  @ApiProperty({ type: PackagerProgressDto, nullable: true }) progress!: PackagerProgressDto | null;
  @ApiProperty({ enum: packagerModeSchema.options, description: '`reencode`: the video is re-encoded because the keyframe interval exceeded `INGEST_KEYFRAME_FIX_SECONDS`' })
  mode!: PackagerMode;
  @ApiProperty({ type: String, nullable: true, description: 'why the source is re-encoded, in words for the streamer; in passthrough null, or why the needed re-encode did not happen (`INGEST_MAX_REENCODES` used up)' })
  modeReason!: string | null;
  @ApiProperty({ type: [String], example: ['source', '720p'], description: 'renditions of the current (or last) ffmpeg run, in output order' }) renditions!: string[];
  @ApiProperty({ description: 'parts handed to the live media store over the broadcast' }) parts!: number;
  @ApiProperty({ description: 'malformed fMP4 fragments over the broadcast (each restarted ffmpeg)' }) malformed!: number;
  @ApiProperty({ description: 'restarts after a failure over the whole broadcast (never reset)' }) restartsTotal!: number;
  @ApiProperty({ description: 'frames ffmpeg dropped over all runs of the broadcast' }) droppedFramesTotal!: number;
}

/** What an ingest node reports about one live channel (contract: `broadcastIngestHealthSchema`). */
export class IngestHealthDto implements BroadcastIngestHealth {
  @ApiProperty({ description: '`INGEST_ID` of the node' }) ingestId!: string;
  @ApiProperty({ description: 'publisher connected (false in the reconnect grace period)' }) connected!: boolean;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) publishingSince!: string | null;
  @ApiProperty({ type: InputHealthDto, nullable: true }) input!: InputHealthDto | null;
  @ApiProperty({ type: PackagerHealthDto }) packager!: PackagerHealthDto;
}

/** One live broadcast with its ingest health (contract: `adminBroadcastSchema`). */
export class AdminBroadcastDto implements AdminBroadcast {
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

/** The answer of one ingest node (contract: `ingestNodeStatusSchema`). */
export class IngestNodeDto implements IngestNodeStatus {
  @ApiProperty({ example: 'http://127.0.0.1:8000' }) url!: string;
  @ApiProperty({ type: String, nullable: true }) ingestId!: string | null;
  @ApiProperty({ description: 'it answered HTTP at all (false: connection refused, timeout)' }) reachable!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'why it could not be read (`HTTP 403: …`, `no answer within 2000 ms`, `unexpected answer (<first schema issue>)`)' })
  error!: string | null;
}

/** Reply of `GET /admin/broadcasts` (contract: `adminBroadcastsSchema`). */
export class AdminBroadcastsDto implements AdminBroadcasts {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ type: [AdminBroadcastDto], description: 'newest first' }) broadcasts!: AdminBroadcastDto[];
  @ApiProperty({ type: [IngestNodeDto] }) ingest!: IngestNodeDto[];
}
