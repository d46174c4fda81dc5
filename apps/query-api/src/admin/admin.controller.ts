/**
 * Admin queries (docs/contracts.md "Admin pages"; issue 4 part 6), for platform admins (`EVENTCAST_ADMINS`) only:
 * `GET /admin/projections`, `GET /admin/audit`, `GET /admin/broadcasts`.
 */
import { BadRequestException, Controller, Get, Inject, Query, Req, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorDto } from '../common/error.dto.js';
import { AUDIT_CATEGORIES, type AuditCategory } from '@eventcast/read-models';
import { AdminBroadcastsDto, AuditPageDto, ProjectionsStatusDto } from './admin.dto.js';
import { AdminGuard } from './admin.guard.js';
import { AdminService } from './admin.service.js';

/** Largest and default audit page. */
const MAX_AUDIT_LIMIT = 200;
const DEFAULT_AUDIT_LIMIT = 50;

/** Parses `?before=` (a positive global position) and `?limit=` (1–200). @throws {BadRequestException} with the reason. */
export function parseAuditPage(before: string | undefined, limit: string | undefined): { before: bigint | null; limit: number } {
  let b: bigint | null = null;
  if (before !== undefined && before !== '') {
    if (!/^[1-9][0-9]{0,18}$/.test(before)) throw new BadRequestException('before must be a positive integer (a global position)');
    b = BigInt(before);
  }
  let l = DEFAULT_AUDIT_LIMIT;
  if (limit !== undefined && limit !== '') {
    l = /^[0-9]{1,4}$/.test(limit) ? Number(limit) : NaN;
    if (!Number.isInteger(l) || l < 1 || l > MAX_AUDIT_LIMIT) throw new BadRequestException(`limit must be an integer from 1 to ${MAX_AUDIT_LIMIT}`);
  }
  return { before: b, limit: l };
}

/** Platform administration. */
@ApiTags('admin')
@Controller('admin')
@UseGuards(AdminGuard)
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto, description: 'missing or invalid bearer token' })
@ApiForbiddenResponse({ type: ErrorDto, description: 'not a platform admin (EVENTCAST_ADMINS)' })
export class AdminController {
  constructor(@Inject(AdminService) private readonly admin: AdminService) {}

  /** Each projection's checkpoint, the store head, lag in events and seconds, state, rebuild progress. */
  @Get('projections')
  @ApiOkResponse({ type: ProjectionsStatusDto })
  @ApiServiceUnavailableResponse({ type: ErrorDto, description: 'the projector has not started, or the event store cannot report its head' })
  projections(): Promise<ProjectionsStatusDto> {
    return this.admin.projections();
  }

  /**
   * The audit trail, newest first: moderation actions of every channel and account/ingest/integration actions.
   * @throws {BadRequestException} bad `before`, `limit` or `category`.
   */
  @Get('audit')
  @ApiQuery({ name: 'before', required: false, description: 'global position: entries older than this (the previous page\'s `nextBefore`)' })
  @ApiQuery({ name: 'limit', required: false, description: `1–${MAX_AUDIT_LIMIT}, default ${DEFAULT_AUDIT_LIMIT}` })
  @ApiQuery({ name: 'category', required: false, enum: AUDIT_CATEGORIES })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiBadRequestResponse({ type: ErrorDto, description: 'invalid before, limit or category' })
  audit(@Query('before') before?: string, @Query('limit') limit?: string, @Query('category') category?: string): Promise<AuditPageDto> {
    const page = parseAuditPage(before, limit);
    let c: AuditCategory | null = null;
    if (category !== undefined && category !== '') {
      if (!(AUDIT_CATEGORIES as readonly string[]).includes(category)) throw new BadRequestException(`category must be one of ${AUDIT_CATEGORIES.join(', ')}`);
      c = category as AuditCategory;
    }
    return this.admin.audit({ ...page, category: c });
  }

  /** Live broadcasts with the ingest nodes' health (bitrate, fps, keyframe interval, packager). */
  @Get('broadcasts')
  @ApiOkResponse({ type: AdminBroadcastsDto })
  broadcasts(@Req() req: { headers: { authorization?: string } }): Promise<AdminBroadcastsDto> {
    return this.admin.broadcasts(req.headers.authorization ?? '');
  }
}
