/**
 * Chat moderation over HTTP (docs/chat.md, Bearer JWT; `:username` is the channel, `:user` a target username):
 * timeouts, bans, moderators, settings and blocked terms. Owner and moderators, except moderators (owner only).
 * 403 `forbidden` for anyone else, 404 for an unknown channel or user.
 */
import { Body, Controller, Delete, Param, Post, Put, Req, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiBearerAuth, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorDto } from '../accounts/dto/responses.dto.js';
import { CurrentAccount } from '../accounts/current-account.decorator.js';
import { JwtAuthGuard } from '../accounts/jwt-auth.guard.js';
import { Idempotent } from '../idempotency/idempotency.interceptor.js';
import { metadataOf, type AppRequest } from '../core/correlation.js';
import type { Account } from './chat.controller.js';
import { ModerateChatCommand, type ModerationAction, type ModerationOutcome } from './commands/moderate-chat.command.js';
import { BlockedTermsDto, ChangeChatSettingsDto, ChatSettingsDto } from './dto/chat-settings.dto.js';
import { BanUserDto, TimeOutUserDto, UserModerationDto } from './dto/moderation.dto.js';

/** The fields of a DTO that were given (class fields of omitted properties exist with value undefined). */
function definedOnly<T extends object>(dto: T): Partial<T> {
  return Object.fromEntries(Object.entries(dto).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Moderation of a channel's chat. */
@ApiTags('chat')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto })
@ApiForbiddenResponse({ type: ErrorDto })
@ApiNotFoundResponse({ type: ErrorDto })
@ApiBadRequestResponse({ type: ErrorDto })
@UseGuards(JwtAuthGuard)
@Idempotent()
@Controller('channels/:username/chat')
export class ChatModerationController {
  constructor(private readonly commands: CommandBus) {}

  /** Times a user out for `durationSeconds`. 201 `{ userId, username, timedOutUntil }`. */
  @Post('timeouts')
  @ApiCreatedResponse({ type: UserModerationDto })
  async timeOut(@Param('username') channel: string, @Body() dto: TimeOutUserDto, @CurrentAccount() who: Account, @Req() req: AppRequest): Promise<UserModerationDto> {
    const out = await this.run(channel, who, req, { type: 'TimeOutUser', targetUsername: dto.username, durationSeconds: dto.durationSeconds, reason: dto.reason });
    const until = out.target ? out.state.timeouts.get(out.target.id) : undefined;
    return { ...this.user(out), ...(until !== undefined ? { timedOutUntil: new Date(until).toISOString() } : {}) };
  }

  /** Bans a user (idempotent). 201 `{ userId, username, banned: true }`. */
  @Post('bans')
  @ApiCreatedResponse({ type: UserModerationDto })
  async ban(@Param('username') channel: string, @Body() dto: BanUserDto, @CurrentAccount() who: Account, @Req() req: AppRequest): Promise<UserModerationDto> {
    return { ...this.user(await this.run(channel, who, req, { type: 'BanUser', targetUsername: dto.username, reason: dto.reason })), banned: true };
  }

  /** Lifts a ban (idempotent). 200 `{ userId, username, banned: false }`. */
  @Delete('bans/:user')
  @ApiOkResponse({ type: UserModerationDto })
  async unban(@Param('username') channel: string, @Param('user') user: string, @CurrentAccount() who: Account, @Req() req: AppRequest): Promise<UserModerationDto> {
    return { ...this.user(await this.run(channel, who, req, { type: 'UnbanUser', targetUsername: user })), banned: false };
  }

  /** Makes a user a moderator (owner only, idempotent). 200 `{ userId, username, moderator: true }`. */
  @Put('moderators/:user')
  @ApiOkResponse({ type: UserModerationDto })
  async addModerator(@Param('username') channel: string, @Param('user') user: string, @CurrentAccount() who: Account, @Req() req: AppRequest): Promise<UserModerationDto> {
    return { ...this.user(await this.run(channel, who, req, { type: 'AddModerator', targetUsername: user })), moderator: true };
  }

  /** Removes a moderator (owner only, idempotent). 200 `{ userId, username, moderator: false }`. */
  @Delete('moderators/:user')
  @ApiOkResponse({ type: UserModerationDto })
  async removeModerator(@Param('username') channel: string, @Param('user') user: string, @CurrentAccount() who: Account, @Req() req: AppRequest): Promise<UserModerationDto> {
    return { ...this.user(await this.run(channel, who, req, { type: 'RemoveModerator', targetUsername: user })), moderator: false };
  }

  /** Merges the given settings over the current ones. 200 `{ settings }` (the settings in force). */
  @Put('settings')
  @ApiOkResponse({ type: ChatSettingsDto })
  async settings(@Param('username') channel: string, @Body() dto: ChangeChatSettingsDto, @CurrentAccount() who: Account, @Req() req: AppRequest): Promise<ChatSettingsDto> {
    const out = await this.run(channel, who, req, { type: 'ChangeChatSettings', settings: definedOnly(dto) });
    return { settings: out.state.settings };
  }

  /** Replaces the blocked terms (stored lower-case, de-duplicated). 200 `{ terms, action }`. */
  @Put('blocked-terms')
  @ApiOkResponse({ type: BlockedTermsDto })
  async blockedTerms(@Param('username') channel: string, @Body() dto: BlockedTermsDto, @CurrentAccount() who: Account, @Req() req: AppRequest): Promise<BlockedTermsDto> {
    const out = await this.run(channel, who, req, { type: 'UpdateBlockedTerms', terms: dto.terms, action: dto.action });
    return { terms: [...out.state.blockedTerms], action: out.state.blockedAction };
  }

  private run(channel: string, who: Account, req: AppRequest, action: ModerationAction): Promise<ModerationOutcome> {
    return this.commands.execute(new ModerateChatCommand(channel, { id: who.id, name: who.username }, action, metadataOf(req, who.id)));
  }

  private user(out: ModerationOutcome): UserModerationDto {
    return { userId: out.target?.id ?? '', username: out.target?.name ?? '' };
  }
}
