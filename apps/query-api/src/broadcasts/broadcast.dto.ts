/**
 * Response shape of `GET /broadcasts/:id` (docs/contracts.md).
 */
import { ApiProperty } from '@nestjs/swagger';
import type { BroadcastView } from '@eventcast/contracts';
import { MediaInfoDto } from '../common/media.dto.js';

/** One broadcast; `endedAt`/`endReason` are null while it is live. Dates are ISO-8601. */
export class BroadcastViewDto implements BroadcastView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) channelId!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) endedAt!: string | null;
  @ApiProperty({ type: String, nullable: true, enum: ['unpublished', 'ingest_restart', 'error'] }) endReason!: string | null;
  @ApiProperty({ type: MediaInfoDto }) media!: MediaInfoDto;
}
