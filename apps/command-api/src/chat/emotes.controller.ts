/** Channel emotes over HTTP (docs/chat.md): the owner adds (≤ 64 KiB, else 400) and removes `:code:` emotes. */
import { Body, Controller, Delete, Param, Post, Req, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorDto } from '../accounts/dto/responses.dto.js';
import { CurrentAccount } from '../accounts/current-account.decorator.js';
import { JwtAuthGuard } from '../accounts/jwt-auth.guard.js';
import { Idempotent } from '../idempotency/idempotency.interceptor.js';
import { metadataOf, type AppRequest } from '../core/correlation.js';
import type { Account } from './chat.controller.js';
import { ModerateChatCommand } from './commands/moderate-chat.command.js';
import { AddEmoteDto, EmoteDto } from './dto/emote.dto.js';
import { DoneDto } from './dto/moderation.dto.js';

/** Emotes of a channel (owner only). */
@ApiTags('chat')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto })
@ApiForbiddenResponse({ type: ErrorDto })
@ApiNotFoundResponse({ type: ErrorDto })
@UseGuards(JwtAuthGuard)
@Idempotent()
@Controller('channels/:username/emotes')
export class EmotesController {
  constructor(private readonly commands: CommandBus) {}

  /** Adds an emote. 201 `{ code, contentType }`; 400 invalid or larger than 64 KiB; 409 `emote_exists`. */
  @Post()
  @ApiCreatedResponse({ type: EmoteDto })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto })
  async add(@Param('username') channel: string, @Body() dto: AddEmoteDto, @CurrentAccount() who: Account, @Req() req: AppRequest): Promise<EmoteDto> {
    const action = { type: 'AddEmote' as const, code: dto.code, contentType: dto.contentType, imageBase64: dto.imageBase64 };
    await this.commands.execute(new ModerateChatCommand(channel, { id: who.id, name: who.username }, action, metadataOf(req, who.id)));
    return { code: dto.code, contentType: dto.contentType };
  }

  /** Removes an emote. 200 `{ ok: true }`; 404 `emote_not_found`. */
  @Delete(':code')
  @ApiOkResponse({ type: DoneDto })
  async remove(@Param('username') channel: string, @Param('code') code: string, @CurrentAccount() who: Account, @Req() req: AppRequest): Promise<DoneDto> {
    await this.commands.execute(new ModerateChatCommand(channel, { id: who.id, name: who.username }, { type: 'RemoveEmote', code }, metadataOf(req, who.id)));
    return { ok: true };
  }
}
