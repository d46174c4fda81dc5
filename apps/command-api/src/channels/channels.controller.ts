/** PUT /me/channel: the owner edits their channel's title and category; PUT /me/channel/latency-mode: its latency mode. */
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
import { SetLatencyModeCommand } from './commands/set-latency-mode.command.js';
import { ChannelInfoDto, ChannelLatencyDto, SetLatencyModeDto, UpdateChannelDto } from './dto/update-channel.dto.js';

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

  /**
   * Sets the latency mode viewers' players follow (issue 10 item 2; `LATENCY_MODE_PATH` of `@eventcast/contracts`).
   * Idempotent: the current mode again records no event. Open to API tokens of scope `channel:write`.
   * 200 `{ latencyMode }`; 400 `latencyMode must be one of low, smooth` or an unknown property; 401; 403 token without
   * the scope; 404 unknown account.
   */
  @Put('latency-mode')
  @AcceptsApiToken('channel:write')
  @ApiOkResponse({ type: ChannelLatencyDto })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  setLatencyMode(@CurrentAccount() who: { id: string }, @Body() dto: SetLatencyModeDto, @Req() req: ApiTokenRequest): Promise<ChannelLatencyDto> {
    return this.commands.execute(new SetLatencyModeCommand(who.id, dto.latencyMode, { ...metadataOf(req, who.id), ...apiTokenMetadata(req) }));
  }
}
