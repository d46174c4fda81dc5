/**
 * Response shapes of the channel queries (docs/contracts.md `ChannelView`).
 */
import { ApiProperty } from '@nestjs/swagger';
import { latencyModeSchema, type ChannelLatency, type LatencyMode } from '@eventcast/contracts';
import { MediaInfoDto } from '../common/media.dto.js';

/** The broadcast on air. `startedAt` is ISO-8601. */
export class LiveBroadcastDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ type: MediaInfoDto }) media!: MediaInfoDto;
}

/** A channel: public info, live state and, when live, its broadcast and HLS playback URL. */
export class ChannelViewDto implements ChannelLatency {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'alice' }) username!: string;
  @ApiProperty({ example: 'Speedrun practice' }) title!: string;
  @ApiProperty({ example: 'Games' }) category!: string;
  @ApiProperty() live!: boolean;
  @ApiProperty({ type: LiveBroadcastDto, nullable: true }) broadcast!: LiveBroadcastDto | null;
  @ApiProperty({ type: String, nullable: true, example: 'http://localhost:8000/hls/alice/index.m3u8' }) playbackUrl!: string | null;
  /** How far behind the live edge the player sits (`ChannelLatency` of `@eventcast/contracts`, issue 10 item 2). */
  @ApiProperty({ enum: latencyModeSchema.options, example: 'low' }) latencyMode!: LatencyMode;
}

/** `{ channels: ChannelView[] }`. */
export class ChannelListDto {
  @ApiProperty({ type: [ChannelViewDto] }) channels!: ChannelViewDto[];
}
