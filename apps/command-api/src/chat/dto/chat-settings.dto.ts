/** PUT …/chat/settings (partial ChatSettings) and PUT …/chat/blocked-terms. */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { ChatSettings } from '@eventcast/events';
import { IsFreeText } from '../../core/free-text.js';

/** Any subset of the chat settings; omitted fields keep their value (Twitch chat settings, seed 002 rate limit). */
export class ChangeChatSettingsDto {
  @ApiPropertyOptional({ description: 'chat on/off (owner and moderators may always write)' })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be a boolean' })
  enabled?: boolean;

  @ApiPropertyOptional({ minimum: 0, maximum: 3600, description: 'seconds between two messages of a viewer (0 = off)' })
  @IsOptional()
  @IsInt({ message: 'slowModeSeconds must be an integer' })
  @Min(0, { message: 'slowModeSeconds must be at least 0' })
  @Max(3600, { message: 'slowModeSeconds must be at most 3600' })
  slowModeSeconds?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean({ message: 'followersOnly must be a boolean' })
  followersOnly?: boolean;

  @ApiPropertyOptional({ enum: [0, 2, 4, 6] })
  @IsOptional()
  @IsIn([0, 2, 4, 6], { message: 'messageDelaySeconds must be 0, 2, 4 or 6' })
  messageDelaySeconds?: 0 | 2 | 4 | 6;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean({ message: 'emoteOnly must be a boolean' })
  emoteOnly?: boolean;

  @ApiPropertyOptional({ minimum: 1, maximum: 100 })
  @IsOptional()
  @IsInt({ message: 'rateLimitMessages must be an integer' })
  @Min(1, { message: 'rateLimitMessages must be at least 1' })
  @Max(100, { message: 'rateLimitMessages must be at most 100' })
  rateLimitMessages?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 3600 })
  @IsOptional()
  @IsInt({ message: 'rateLimitWindowSeconds must be an integer' })
  @Min(1, { message: 'rateLimitWindowSeconds must be at least 1' })
  @Max(3600, { message: 'rateLimitWindowSeconds must be at most 3600' })
  rateLimitWindowSeconds?: number;
}

/** Reply of PUT …/chat/settings: the settings now in force. */
export class ChatSettingsDto {
  @ApiProperty({ description: 'ChatSettings of libs/events' }) settings!: ChatSettings;
}

/** PUT …/chat/blocked-terms: the whole list (replaces the previous one). */
export class BlockedTermsDto {
  @ApiProperty({ type: [String], maxItems: 500, example: ['darn'] })
  @IsArray({ message: 'terms must be an array' })
  @ArrayMaxSize(500, { message: 'at most 500 terms' })
  @IsString({ each: true, message: 'each term must be a string' })
  @MaxLength(50, { each: true, message: 'each term must be at most 50 characters' })
  @IsFreeText('a term', { each: true })
  terms!: string[];

  @ApiProperty({ enum: ['mask', 'refuse'] })
  @IsIn(['mask', 'refuse'], { message: "action must be 'mask' or 'refuse'" })
  action!: 'mask' | 'refuse';
}
