/** POST /channels/:username/emotes. */
import { ApiProperty } from '@nestjs/swagger';
import { IsBase64, IsIn, IsString, Matches, MaxLength } from 'class-validator';

/** An emote: `:code:` in chat, a PNG/GIF/WebP image of at most 64 KiB (decoded; checked by the decider → 400). */
export class AddEmoteDto {
  @ApiProperty({ pattern: '^[A-Za-z0-9_]{2,32}$', example: 'PogU' })
  @IsString({ message: 'code must be a string' })
  @Matches(/^[A-Za-z0-9_]{2,32}$/, { message: 'code must be 2–32 characters of A-Z, a-z, 0-9 and _' })
  code!: string;

  @ApiProperty({ enum: ['image/png', 'image/gif', 'image/webp'] })
  @IsIn(['image/png', 'image/gif', 'image/webp'], { message: 'contentType must be image/png, image/gif or image/webp' })
  contentType!: 'image/png' | 'image/gif' | 'image/webp';

  @ApiProperty({ description: 'standard base64 of the image, at most 64 KiB decoded' })
  @IsString({ message: 'imageBase64 must be a string' })
  @MaxLength(200_000, { message: 'imageBase64 is too long' })
  @IsBase64(undefined, { message: 'imageBase64 must be base64' })
  imageBase64!: string;
}

/** Reply of POST …/emotes. */
export class EmoteDto {
  @ApiProperty() code!: string;
  @ApiProperty() contentType!: string;
}
