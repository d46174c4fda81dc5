/**
 * The owner's restream targets from the read model (issue 10 item 7): `GET /me/restream-targets` (Bearer JWT) →
 * `RestreamTargetList` of @eventcast/contracts, oldest first, each with its last live state. Never a key.
 * (command-api serves the same shape from the aggregate, for the reply right after a change.)
 */
import { Controller, Get, Inject, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { RestreamTargetList } from '@eventcast/contracts';
import { BearerAuthGuard, type AuthRequest } from '../auth/bearer-auth.guard.js';
import { ErrorDto } from '../common/error.dto.js';
import { READ_MODEL_DB, type ReadModelDb } from '@eventcast/read-models';

/** Restream read routes. */
@ApiTags('restream')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('me/restream-targets')
@ApiUnauthorizedResponse({ type: ErrorDto, description: 'missing or invalid JWT' })
export class RestreamController {
  constructor(@Inject(READ_MODEL_DB) private readonly db: ReadModelDb) {}

  /** The caller's targets with their last reported state. */
  @Get()
  @ApiOkResponse({ description: '`{ targets: [{ id, name, url, enabled, live: { broadcastId, state, reason, at } | null }] }`' })
  async list(@Req() req: AuthRequest): Promise<RestreamTargetList> {
    const rows = await this.db
      .selectFrom('restream_targets')
      .selectAll()
      .where('channel_id', '=', req.account!.id)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return {
      targets: rows.map((r) => ({
        id: r.id,
        name: r.name,
        url: r.url,
        enabled: r.enabled,
        live:
          r.state !== null && r.broadcast_id !== null && r.state_at !== null
            ? { broadcastId: r.broadcast_id, state: r.state, reason: r.reason, at: r.state_at.toISOString() }
            : null,
      })),
    };
  }
}
