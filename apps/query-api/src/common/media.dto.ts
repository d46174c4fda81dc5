/**
 * OpenAPI schema of `MediaInfo` (docs/contracts.md); the value itself is the catalog's type.
 */
import { ApiProperty } from '@nestjs/swagger';
import type { MediaInfo } from '@eventcast/events';

/** Media probed by ingest. Units: pixels, frames/s, kbit/s, Hz. */
export class MediaInfoDto implements MediaInfo {
  @ApiProperty({ type: String, nullable: true, example: 'h264' }) videoCodec!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'aac' }) audioCodec!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: 1280 }) width!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 720 }) height!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 30 }) frameRate!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 2500 }) videoBitrateKbps!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 48000 }) audioSampleRate!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 2 }) audioChannels!: number | null;
}
