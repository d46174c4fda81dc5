import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

/** Body of POST /channels/:username/chat/messages. Emptiness and the 500-character limit are chat rules (400 with a code). */
export class SendChatMessageDto {
  @ApiProperty({ example: 'hello chat', description: 'trimmed; 1–500 characters after trimming' })
  @IsString({ message: 'text must be a string' })
  @MaxLength(4000, { message: 'text must be at most 4000 characters' })
  text!: string;
}

/** Reply of a sent message. */
export class SentChatMessageDto {
  @ApiProperty({ format: 'uuid' }) messageId!: string;
  @ApiProperty({ format: 'date-time', description: 'when viewers may see it (now + message delay for viewers)' }) visibleAt!: string;
}
