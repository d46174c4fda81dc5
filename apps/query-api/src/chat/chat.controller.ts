/**
 * Chat queries of docs/chat.md: `GET /channels/:username/chat/{messages,settings,blocked-terms,moderation-log,roles/:user}`.
 * Public routes answer anyone; blocked terms and the moderation log need a Bearer JWT of the owner or a moderator.
 */
import { Controller, ForbiddenException, Get, Inject, NotFoundException, Param, Query, Req, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { BearerAuthGuard, type AuthRequest } from '../auth/bearer-auth.guard.js';
import { ErrorDto } from '../common/error.dto.js';
import { parsePage, parseUsername } from '../common/params.js';
import { BlockedTermsDto, ChatMessagesPageDto, ChatRoleViewDto, ChatSettingsViewDto, ModerationLogPageDto } from './chat.dto.js';
import { ChatService, type ChannelRef } from './chat.service.js';
import { ChatReadTokenGuard } from '../integrations/chat-read-token.guard.js';

/** Chat history, settings, moderation views and roles of one channel. */
@ApiTags('chat')
@Controller('channels/:username/chat')
@ApiBadRequestResponse({ type: ErrorDto, description: 'invalid username or query parameter (reasons in `message`)' })
@ApiNotFoundResponse({ type: ErrorDto, description: 'unknown channel' })
export class ChatController {
  constructor(@Inject(ChatService) private readonly chat: ChatService) {}

  /**
   * Visible messages, newest first, paged by global position. Public; an API token, when presented, must be valid
   * and have scope `chat:read` for this channel (docs/contracts.md "Integrations").
   * @throws {BadRequestException} bad username, `before` or `limit`. @throws {NotFoundException} unknown channel.
   */
  @Get('messages')
  @UseGuards(ChatReadTokenGuard)
  @ApiOkResponse({ type: ChatMessagesPageDto })
  @ApiQuery({ name: 'before', required: false, description: 'only messages with a lower globalPosition (the previous page\'s nextBefore)' })
  @ApiQuery({ name: 'limit', required: false, description: '1–100, default 50' })
  async messages(@Param('username') raw: string, @Query('before') before?: string, @Query('limit') limit?: string): Promise<ChatMessagesPageDto> {
    const page = parsePage(before, limit);
    return this.chat.messages((await this.chat.requireChannel(raw)).id, page);
  }

  /** Chat settings and moderators (public). @throws {BadRequestException} / {NotFoundException} as above. */
  @Get('settings')
  @ApiOkResponse({ type: ChatSettingsViewDto })
  async settings(@Param('username') raw: string): Promise<ChatSettingsViewDto> {
    return this.chat.settings((await this.chat.requireChannel(raw)).id);
  }

  /**
   * Blocked terms (owner and moderators).
   * @throws {UnauthorizedException} no/invalid token. @throws {ForbiddenException} neither owner nor moderator.
   */
  @Get('blocked-terms')
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOkResponse({ type: BlockedTermsDto })
  @ApiUnauthorizedResponse({ type: ErrorDto, description: 'missing or invalid bearer token' })
  @ApiForbiddenResponse({ type: ErrorDto, description: 'not the owner or a moderator' })
  async blockedTerms(@Param('username') raw: string, @Req() req: AuthRequest): Promise<BlockedTermsDto> {
    const channel = await this.moderated(raw, req);
    return this.chat.blockedTerms(channel.id);
  }

  /** Moderation log, newest first (owner and moderators); errors as blocked terms plus 400 for paging. */
  @Get('moderation-log')
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOkResponse({ type: ModerationLogPageDto })
  @ApiQuery({ name: 'before', required: false, description: 'only entries with a lower globalPosition (the previous page\'s nextBefore)' })
  @ApiQuery({ name: 'limit', required: false, description: '1–100, default 50' })
  @ApiUnauthorizedResponse({ type: ErrorDto, description: 'missing or invalid bearer token' })
  @ApiForbiddenResponse({ type: ErrorDto, description: 'not the owner or a moderator' })
  async moderationLog(@Param('username') raw: string, @Req() req: AuthRequest, @Query('before') before?: string, @Query('limit') limit?: string): Promise<ModerationLogPageDto> {
    const page = parsePage(before, limit);
    const channel = await this.moderated(raw, req);
    return this.chat.moderationLog(channel.id, page);
  }

  /** Role, ban, timeout and follow state of `user` (public). @throws {NotFoundException} unknown channel or user. */
  @Get('roles/:user')
  @ApiOkResponse({ type: ChatRoleViewDto })
  async role(@Param('username') raw: string, @Param('user') rawUser: string): Promise<ChatRoleViewDto> {
    const userName = parseUsername(rawUser, 'user');
    const channel = await this.chat.requireChannel(raw);
    const user = await this.chat.channel(userName);
    if (!user) throw new NotFoundException(`user "${userName}" not found`);
    return this.chat.role(channel, user);
  }

  /** The channel when the signed-in account owns or moderates it. */
  private async moderated(raw: string, req: AuthRequest): Promise<ChannelRef> {
    const channel = await this.chat.requireChannel(raw);
    const account = req.account!;
    if (account.id !== channel.id && !(await this.chat.isModerator(channel.id, account.id))) {
      throw new ForbiddenException('only the channel owner and its moderators may see this');
    }
    return channel;
  }
}
