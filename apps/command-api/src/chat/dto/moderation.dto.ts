/** Bodies and replies of the chat moderation routes (docs/chat.md). */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsFreeText } from '../../core/free-text.js';

const REASON = { maxLength: 200, example: 'spam' };

/** Optional reason of a deletion. */
export class DeleteMessageDto {
  @ApiPropertyOptional(REASON)
  @IsOptional()
  @IsString({ message: 'reason must be a string' })
  @MaxLength(200, { message: 'reason must be at most 200 characters' })
  @IsFreeText('reason')
  reason?: string;
}

/** POST …/chat/bans. */
export class BanUserDto extends DeleteMessageDto {
  @ApiProperty({ example: 'spammer' })
  @IsString({ message: 'username must be a string' })
  @MaxLength(24, { message: 'username must be at most 24 characters' })
  @IsFreeText('username')
  username!: string;
}

/** POST …/chat/timeouts: seconds, 1 – 1 209 600 (14 days, Twitch's maximum). */
export class TimeOutUserDto extends BanUserDto {
  @ApiProperty({ minimum: 1, maximum: 1_209_600, example: 600 })
  @IsInt({ message: 'durationSeconds must be an integer' })
  @Min(1, { message: 'durationSeconds must be at least 1' })
  @Max(1_209_600, { message: 'durationSeconds must be at most 1209600' })
  durationSeconds!: number;
}

/** Reply of the ban/unban/timeout/moderator routes. */
export class UserModerationDto {
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty() username!: string;
  @ApiPropertyOptional() banned?: boolean;
  @ApiPropertyOptional() moderator?: boolean;
  @ApiPropertyOptional({ format: 'date-time' }) timedOutUntil?: string;
}

/** Reply of delete and clear. */
export class DoneDto {
  @ApiProperty({ example: true }) ok!: boolean;
}
