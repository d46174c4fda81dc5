/**
 * Stream-health queries for the streamer (issue 10 item 5), behind a Bearer JWT like the other analytics routes:
 * - `GET /analytics/channels/:username/health` → `ChannelHealthResponse` of @eventcast/contracts;
 * - `GET /analytics/broadcasts/:id/health` → `BroadcastHealthSeries`.
 * 401 without a valid token, 403 for anyone but the channel's owner and platform admins, 404 for an unknown channel
 * or broadcast, 400 for a malformed username or id. The dashboard polls the first every `HEALTH_POLL_MS` (the
 * realtime edge relays no owner-only events).
 */
import { BadRequestException, Controller, Get, Inject, Param, Req, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { BroadcastHealthSeries, ChannelHealthResponse } from '@eventcast/contracts';
import { BearerAuthGuard, type AuthRequest } from '../auth/bearer-auth.guard.js';
import { ErrorDto } from '../common/error.dto.js';
import { StreamHealthService } from './stream-health.service.js';
import { UUID } from '@eventcast/read-models';

/** Stream health of channels and broadcasts. */
@ApiTags('analytics')
@Controller('analytics')
@UseGuards(BearerAuthGuard)
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto, description: 'missing or invalid bearer token' })
@ApiForbiddenResponse({ type: ErrorDto, description: "not the channel's owner nor a platform admin (EVENTCAST_ADMINS)" })
@ApiBadRequestResponse({ type: ErrorDto, description: 'invalid username or id' })
@ApiNotFoundResponse({ type: ErrorDto, description: 'unknown channel or broadcast' })
export class StreamHealthController {
  constructor(@Inject(StreamHealthService) private readonly health: StreamHealthService) {}

  /** The live broadcast's latest sample and the last refused publish of a channel (owner or admin). */
  @Get('channels/:username/health')
  @ApiOkResponse({ description: '`ChannelHealthResponse` of @eventcast/contracts (docs/contracts.md "Stream health")' })
  async channel(@Param('username') raw: string, @Req() req: AuthRequest): Promise<ChannelHealthResponse> {
    return this.health.channel(raw, req.account!);
  }

  /** A broadcast's health samples, oldest first (owner or admin). */
  @Get('broadcasts/:id/health')
  @ApiOkResponse({ description: '`BroadcastHealthSeries` of @eventcast/contracts' })
  async series(@Param('id') id: string, @Req() req: AuthRequest): Promise<BroadcastHealthSeries> {
    if (!UUID.test(id)) throw new BadRequestException('id must be a UUID');
    return this.health.series(id.toLowerCase(), req.account!);
  }
}
