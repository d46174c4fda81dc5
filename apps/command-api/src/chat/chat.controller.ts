/**
 * Chat messages over HTTP (docs/chat.md, Bearer JWT; `:username` is the channel): send (the HTTP twin of NATS
 * `chat.send`, for bots and tests), delete one message, clear the chat. Refusals: `{ statusCode, error, message, code,
 * retryAfterMs? }` (429 rate_limited/slow_mode/timed_out; 403 banned/forbidden/followers_only/chat_disabled/
 * emote_only/blocked_term; 400 empty/too_long; 404 unknown channel or message).
 */
import { Body, Controller, Delete, ForbiddenException, HttpCode, Param, ParseUUIDPipe, Post, Req, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentAccount } from '../accounts/current-account.decorator.js';
import { ErrorDto } from '../accounts/dto/responses.dto.js';
import { JwtAuthGuard } from '../accounts/jwt-auth.guard.js';
import { Idempotent } from '../idempotency/idempotency.interceptor.js';
import { metadataOf, type AppRequest } from '../core/correlation.js';
import { ChannelDirectory } from './channel-directory.js';
import { ModerateChatCommand } from './commands/moderate-chat.command.js';
import { SendChatMessageCommand } from './commands/send-chat-message.command.js';
import { DoneDto, DeleteMessageDto } from './dto/moderation.dto.js';
import { SendChatMessageDto, SentChatMessageDto } from './dto/send-chat-message.dto.js';
import { DomainError } from '../core/domain-errors.js';
import { apiTokenMetadata, type ApiTokenRequest } from '../integrations/api-token-authenticator.js';
import { AcceptsApiToken } from '../integrations/api-token-scope.decorator.js';

/** The signed-in account as set by the JWT guard. */
export interface Account {
  id: string;
  username: string;
}

/** Messages of a channel's chat. */
@ApiTags('chat')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto })
@ApiNotFoundResponse({ type: ErrorDto })
@UseGuards(JwtAuthGuard)
@Idempotent()
@Controller('channels/:username/chat')
export class ChatController {
  constructor(
    private readonly commands: CommandBus,
    private readonly directory: ChannelDirectory,
  ) {}

  /**
   * Sends `text` as the signed-in user, or — with an API token of scope `chat:send` (docs/contracts.md "Integrations")
   * — as the channel's bot: the owner speaks, under the owner's rules, and the message carries `bot` (token id, bot
   * name). A token acts only in its own channel (403 elsewhere). 201 `{ messageId, visibleAt }`.
   */
  @Post('messages')
  @AcceptsApiToken('chat:send')
  @ApiCreatedResponse({ type: SentChatMessageDto })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiForbiddenResponse({ type: ErrorDto })
  @ApiTooManyRequestsResponse({ type: ErrorDto })
  async send(@Param('username') username: string, @Body() dto: SendChatMessageDto, @CurrentAccount() who: Account, @Req() req: ApiTokenRequest): Promise<SentChatMessageDto> {
    const channel = await this.directory.channelByUsername(username);
    if (!channel) throw new DomainError('channel_not_found', 'no such channel');
    const token = req.apiToken;
    if (token && token.channelId !== channel.id) throw new ForbiddenException('an API token can only send in its own channel');
    const bot = token ? { tokenId: token.tokenId, name: token.botName } : undefined;
    return this.commands.execute(new SendChatMessageCommand(channel.id, { id: who.id, name: who.username }, dto.text, { ...metadataOf(req, who.id), ...apiTokenMetadata(req) }, bot));
  }

  /** Deletes one of the last ≤ 1000 messages (owner, moderators). 200 `{ ok: true }`. */
  @Delete('messages/:messageId')
  @ApiOkResponse({ type: DoneDto })
  @ApiForbiddenResponse({ type: ErrorDto })
  async delete(
    @Param('username') username: string,
    @Param('messageId', new ParseUUIDPipe()) messageId: string,
    @Body() dto: DeleteMessageDto,
    @CurrentAccount() who: Account,
    @Req() req: AppRequest,
  ): Promise<DoneDto> {
    const action = { type: 'DeleteChatMessage' as const, messageId, reason: dto.reason };
    await this.commands.execute(new ModerateChatCommand(username, { id: who.id, name: who.username }, action, metadataOf(req, who.id)));
    return { ok: true };
  }

  /** Clears the chat for everyone (owner, moderators). 200 `{ ok: true }`. */
  @Post('clear')
  @HttpCode(200)
  @ApiOkResponse({ type: DoneDto })
  @ApiForbiddenResponse({ type: ErrorDto })
  async clear(@Param('username') username: string, @CurrentAccount() who: Account, @Req() req: AppRequest): Promise<DoneDto> {
    await this.commands.execute(new ModerateChatCommand(username, { id: who.id, name: who.username }, { type: 'ClearChat' }, metadataOf(req, who.id)));
    return { ok: true };
  }
}
