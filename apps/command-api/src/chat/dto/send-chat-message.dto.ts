import { ApiProperty } from '@nestjs/swagger';
import { CHAT_MESSAGE_MAX_CODE_UNITS } from '@eventcast/contracts';
import { IsString, MaxLength } from 'class-validator';

/**
 * Body of POST /channels/:username/chat/messages. Emptiness, the 500-character limit (graphemes) and the text rule are
 * chat rules decided by the chat room (400 with a code; a refused text counts toward the sender's rate limit).
 */
export class SendChatMessageDto {
  @ApiProperty({ example: 'hello chat', description: 'trimmed; 1–500 user-perceived characters (graphemes) after trimming; no control characters, bidi overrides or unpaired surrogates' })
  @IsString({ message: 'text must be a string' })
  @MaxLength(CHAT_MESSAGE_MAX_CODE_UNITS, { message: `text must be at most ${CHAT_MESSAGE_MAX_CODE_UNITS} UTF-16 code units` })
  text!: string;
}

/** Reply of a sent message. */
export class SentChatMessageDto {
  @ApiProperty({ format: 'uuid' }) messageId!: string;
  @ApiProperty({ format: 'date-time', description: 'when viewers may see it (now + message delay for viewers)' }) visibleAt!: string;
}
