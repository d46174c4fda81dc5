import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsFreeText } from '../../core/free-text.js';

/** Body of PUT /me/channel: omitted fields keep their value. */
export class UpdateChannelDto {
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
export class ChannelInfoDto {
  @ApiProperty() title!: string;
  @ApiProperty() category!: string;
}
