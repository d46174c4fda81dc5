/** PUT /me/channel: the owner edits their channel's title and category. */
import { Body, Controller, Put, Req, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { metadataOf } from '../core/correlation.js';
import { CurrentAccount } from '../accounts/current-account.decorator.js';
import { ErrorDto } from '../accounts/dto/responses.dto.js';
import { JwtAuthGuard } from '../accounts/jwt-auth.guard.js';
import { Idempotent } from '../idempotency/idempotency.interceptor.js';
import { apiTokenMetadata, type ApiTokenRequest } from '../integrations/api-token-authenticator.js';
import { AcceptsApiToken } from '../integrations/api-token-scope.decorator.js';
import { UpdateChannelInfoCommand } from './commands/update-channel-info.command.js';
import { ChannelInfoDto, UpdateChannelDto } from './dto/update-channel.dto.js';

/** The caller's channel. */
@ApiTags('me')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Idempotent()
@Controller('me/channel')
export class ChannelsController {
  constructor(private readonly commands: CommandBus) {}

  /**
   * Updates title/category. Also open to API tokens of scope `channel:write` (they act as the channel owner).
   * 200 `{ title, category }`; 400 validation; 401; 403 token without the scope; 404 unknown account.
   */
  @Put()
  @AcceptsApiToken('channel:write')
  @ApiOkResponse({ type: ChannelInfoDto })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  update(@CurrentAccount() who: { id: string }, @Body() dto: UpdateChannelDto, @Req() req: ApiTokenRequest): Promise<ChannelInfoDto> {
    return this.commands.execute(new UpdateChannelInfoCommand(who.id, dto.title, dto.category, { ...metadataOf(req, who.id), ...apiTokenMetadata(req) }));
  }
}
