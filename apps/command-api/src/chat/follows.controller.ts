/** Follow / unfollow a channel (docs/chat.md): any signed-in user but the owner (403 `cannot_follow_self`). Idempotent. */
import { Controller, Delete, Param, Put, Req, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiProperty, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorDto } from '../accounts/dto/responses.dto.js';
import { CurrentAccount } from '../accounts/current-account.decorator.js';
import { JwtAuthGuard } from '../accounts/jwt-auth.guard.js';
import { Idempotent } from '../idempotency/idempotency.interceptor.js';
import { metadataOf, type AppRequest } from '../core/correlation.js';
import type { Account } from './chat.controller.js';
import { FollowChannelCommand } from './commands/follow-channel.command.js';

/** Reply of the follow routes. */
export class FollowingDto {
  @ApiProperty() following!: boolean;
}

/** The caller's follow of a channel. */
@ApiTags('chat')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto })
@ApiNotFoundResponse({ type: ErrorDto })
@UseGuards(JwtAuthGuard)
@Idempotent()
@Controller('channels/:username/follow')
export class FollowsController {
  constructor(private readonly commands: CommandBus) {}

  /** Follows the channel. 200 `{ following: true }`. */
  @Put()
  @ApiOkResponse({ type: FollowingDto })
  @ApiForbiddenResponse({ type: ErrorDto })
  follow(@Param('username') channel: string, @CurrentAccount() who: Account, @Req() req: AppRequest): Promise<FollowingDto> {
    return this.commands.execute(new FollowChannelCommand(channel, { id: who.id, name: who.username }, true, metadataOf(req, who.id)));
  }

  /** Unfollows the channel. 200 `{ following: false }`. */
  @Delete()
  @ApiOkResponse({ type: FollowingDto })
  unfollow(@Param('username') channel: string, @CurrentAccount() who: Account, @Req() req: AppRequest): Promise<FollowingDto> {
    return this.commands.execute(new FollowChannelCommand(channel, { id: who.id, name: who.username }, false, metadataOf(req, who.id)));
  }
}
