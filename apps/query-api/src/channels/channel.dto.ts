/**
 * Response shapes of the channel queries (docs/contracts.md `ChannelView`).
 */
import { ApiProperty } from '@nestjs/swagger';
import { latencyModeSchema, type BroadcastSummary, type ChannelList, type ChannelView, type LatencyMode } from '@eventcast/contracts';
import { MediaInfoDto } from '../common/media.dto.js';

/** The broadcast on air. `startedAt` is ISO-8601; `media` null until the broadcast's row is projected. */
export class LiveBroadcastDto implements BroadcastSummary {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ type: MediaInfoDto, nullable: true }) media!: MediaInfoDto | null;
}

/**
 * A channel: public info, live state and, when live, its broadcast and its HLS playback and thumbnail URLs. The shape
 * is the contract's `ChannelView` (@eventcast/contracts, channel-view.ts); this class only describes it for OpenAPI.
 */
export class ChannelViewDto implements ChannelView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'alice' }) username!: string;
  @ApiProperty({ example: 'Speedrun practice' }) title!: string;
  @ApiProperty({ example: 'Games' }) category!: string;
  @ApiProperty() live!: boolean;
  @ApiProperty({ type: LiveBroadcastDto, nullable: true }) broadcast!: LiveBroadcastDto | null;
  @ApiProperty({ type: String, nullable: true, example: 'http://localhost:8000/hls/alice/index.m3u8' }) playbackUrl!: string | null;
  /** How far behind the live edge the player sits (`ChannelLatency` of `@eventcast/contracts`, issue 10 item 2). */
  @ApiProperty({ enum: latencyModeSchema.options, example: 'low' }) latencyMode!: LatencyMode;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'http://localhost:8000/hls/alice/thumbnail.jpg?t=119774567',
    description: 'latest picture while live (may 404 in the first seconds); `t` changes every 15 s (cache-buster)',
  })
  thumbnailUrl!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'http://localhost:8000/vod/6f1c0b1e-8d4c-4a8e-9a53-0d6f3c1f2b7a/index.m3u8',
    description: "the live broadcast's recording (EVENT playlist from the broadcast's start: rewind while live); null offline",
  })
  dvrPlaybackUrl!: string | null;
  /** Whether the channel keeps its broadcasts as VODs (`ChannelRecordingChanged`, default true). */
  @ApiProperty({ example: true }) recordingEnabled!: boolean;
}

/** `{ channels: ChannelView[] }`. */
export class ChannelListDto implements ChannelList {
  @ApiProperty({ type: [ChannelViewDto] }) channels!: ChannelViewDto[];
}
