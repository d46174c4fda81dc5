import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { latencyModeSchema, type ChannelInfo, type ChannelLatency, type LatencyMode, type SetLatencyModeRequest, type UpdateChannelRequest } from '@eventcast/contracts';
import { IsFreeText } from '../../core/free-text.js';

/** Body of PUT /me/channel: omitted fields keep their value. */
export class UpdateChannelDto implements UpdateChannelRequest {
  @ApiPropertyOptional({ maxLength: 140, example: 'Speedrunning Celeste' })
  @IsOptional()
  @IsString({ message: 'title must be a string' })
  @MaxLength(140, { message: 'title must be at most 140 characters' })
  @IsFreeText('title')
  title?: string;

  @ApiPropertyOptional({ maxLength: 60, example: 'Games' })
  @IsOptional()
  @IsString({ message: 'category must be a string' })
  @MaxLength(60, { message: 'category must be at most 60 characters' })
  @IsFreeText('category')
  category?: string;
}

/** Reply of PUT /me/channel. */
export class ChannelInfoDto implements ChannelInfo {
  @ApiProperty() title!: string;
  @ApiProperty() category!: string;
}

/** Body of PUT /me/channel/latency-mode (`SetLatencyModeRequest` of `@eventcast/contracts`). */
export class SetLatencyModeDto implements SetLatencyModeRequest {
  @ApiProperty({ enum: latencyModeSchema.options, example: 'low', description: '`low`: LL-HLS at the live edge (default); `smooth`: a larger buffer for bad networks' })
  @IsIn(latencyModeSchema.options, { message: `latencyMode must be one of ${latencyModeSchema.options.join(', ')}` })
  latencyMode!: LatencyMode;
}

/** Reply of PUT /me/channel/latency-mode (`ChannelLatency` of `@eventcast/contracts`). */
export class ChannelLatencyDto implements ChannelLatency {
  @ApiProperty({ enum: latencyModeSchema.options }) latencyMode!: LatencyMode;
}
