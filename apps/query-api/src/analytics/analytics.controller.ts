/**
 * Analytics queries (docs/contracts.md "Analytics"), all behind a Bearer JWT: a channel's analytics for its owner and
 * platform admins, the platform summary for admins only, CSV exports of the broadcast list and the daily series.
 */
import { BadRequestException, Controller, Get, Inject, Param, Query, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiProduces,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { BearerAuthGuard, type AuthRequest } from '../auth/bearer-auth.guard.js';
import { ErrorDto } from '../common/error.dto.js';
import { AdminSummaryDto, BroadcastDetailDto, ChannelAnalyticsDto, DailySeriesDto, type BroadcastAnalyticsDto, type DayAnalyticsDto } from './analytics.dto.js';
import { AnalyticsService } from './analytics.service.js';
import { toCsv } from './csv.js';
import { parseDayRange } from './range.js';
import { UUID } from '@eventcast/read-models';

/** The part of the express response the CSV routes use. */
interface CsvResponse {
  setHeader(name: string, value: string): unknown;
}

/** Most broadcasts in one overview or CSV. */
const MAX_BROADCASTS = 1000;

function parseLimit(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = /^[0-9]{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_BROADCASTS) throw new BadRequestException(`limit must be an integer from 1 to ${MAX_BROADCASTS}`);
  return n;
}

const broadcastColumns: { header: string; value: (b: BroadcastAnalyticsDto) => string | number | boolean | null }[] = [
  { header: 'broadcast_id', value: (b) => b.broadcastId },
  { header: 'channel', value: (b) => b.username },
  { header: 'started_at', value: (b) => b.startedAt },
  { header: 'ended_at', value: (b) => b.endedAt },
  { header: 'duration_seconds', value: (b) => b.durationSeconds },
  { header: 'peak_viewers', value: (b) => b.peakViewers },
  { header: 'average_viewers', value: (b) => b.averageViewers },
  { header: 'unique_viewers', value: (b) => b.uniqueViewers },
  { header: 'messages', value: (b) => b.messages },
  { header: 'messages_per_minute', value: (b) => b.messagesPerMinute },
  { header: 'new_followers', value: (b) => b.newFollowers },
];

const dayColumns: { header: string; value: (d: DayAnalyticsDto) => string | number }[] = [
  { header: 'day', value: (d) => d.day },
  { header: 'broadcasts', value: (d) => d.broadcasts },
  { header: 'minutes_live', value: (d) => d.minutesLive },
  { header: 'peak_viewers', value: (d) => d.peakViewers },
  { header: 'unique_viewers', value: (d) => d.uniqueViewers },
  { header: 'messages', value: (d) => d.messages },
  { header: 'new_followers', value: (d) => d.newFollowers },
];

function sendCsv(res: CsvResponse, filename: string, body: string): string {
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${filename}"`);
  return body;
}

/** Analytics of channels and broadcasts. */
@ApiTags('analytics')
@Controller('analytics')
@UseGuards(BearerAuthGuard)
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto, description: 'missing or invalid bearer token' })
@ApiForbiddenResponse({ type: ErrorDto, description: "not the channel's owner nor a platform admin (EVENTCAST_ADMINS)" })
@ApiBadRequestResponse({ type: ErrorDto, description: 'invalid username, id, limit or day range (reasons in `message`)' })
export class AnalyticsController {
  constructor(@Inject(AnalyticsService) private readonly analytics: AnalyticsService) {}

  /**
   * Platform summary over a day range (admins only).
   * @throws {ForbiddenException} not an admin. @throws {BadRequestException} bad range.
   */
  @Get('summary')
  @ApiOkResponse({ type: AdminSummaryDto })
  @ApiQuery({ name: 'from', required: false, description: 'first UTC day, YYYY-MM-DD (default: 29 days before `to`)' })
  @ApiQuery({ name: 'to', required: false, description: 'last UTC day, YYYY-MM-DD (default: today); at most 366 days in all' })
  async summary(@Req() req: AuthRequest, @Query('from') from?: string, @Query('to') to?: string): Promise<AdminSummaryDto> {
    this.analytics.requireAdmin(req.account!);
    return this.analytics.summary(parseDayRange(from, to));
  }

  /** A channel's all-time totals and newest broadcasts (owner or admin). */
  @Get('channels/:username')
  @ApiOkResponse({ type: ChannelAnalyticsDto })
  @ApiNotFoundResponse({ type: ErrorDto, description: 'unknown channel' })
  @ApiQuery({ name: 'limit', required: false, description: 'broadcasts to list, 1–1000, default 50' })
  async channel(@Param('username') raw: string, @Req() req: AuthRequest, @Query('limit') limit?: string): Promise<ChannelAnalyticsDto> {
    const n = parseLimit(limit, 50);
    return this.analytics.overview(await this.analytics.channelFor(raw, req.account!), n);
  }

  /** A channel's daily series over a day range (owner or admin). */
  @Get('channels/:username/daily')
  @ApiOkResponse({ type: DailySeriesDto })
  @ApiNotFoundResponse({ type: ErrorDto, description: 'unknown channel' })
  @ApiQuery({ name: 'from', required: false, description: 'first UTC day, YYYY-MM-DD (default: 29 days before `to`)' })
  @ApiQuery({ name: 'to', required: false, description: 'last UTC day, YYYY-MM-DD (default: today); at most 366 days in all' })
  async daily(@Param('username') raw: string, @Req() req: AuthRequest, @Query('from') from?: string, @Query('to') to?: string): Promise<DailySeriesDto> {
    const range = parseDayRange(from, to);
    return this.analytics.daily(await this.analytics.channelFor(raw, req.account!), range);
  }

  /** CSV of a channel's broadcasts, newest first (owner or admin). */
  @Get('channels/:username/broadcasts.csv')
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'text/csv attachment: header row, one broadcast per row', schema: { type: 'string' } })
  @ApiQuery({ name: 'limit', required: false, description: 'broadcasts, 1–1000, default 1000' })
  async broadcastsCsv(@Param('username') raw: string, @Req() req: AuthRequest, @Res({ passthrough: true }) res: CsvResponse, @Query('limit') limit?: string): Promise<string> {
    const n = parseLimit(limit, MAX_BROADCASTS);
    const channel = await this.analytics.channelFor(raw, req.account!);
    return sendCsv(res, `${channel.username}-broadcasts.csv`, toCsv(broadcastColumns, await this.analytics.broadcasts(channel.id, n)));
  }

  /** CSV of a channel's daily series (owner or admin). */
  @Get('channels/:username/daily.csv')
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'text/csv attachment: header row, one day per row', schema: { type: 'string' } })
  @ApiQuery({ name: 'from', required: false })
  @ApiQuery({ name: 'to', required: false })
  async dailyCsv(@Param('username') raw: string, @Req() req: AuthRequest, @Res({ passthrough: true }) res: CsvResponse, @Query('from') from?: string, @Query('to') to?: string): Promise<string> {
    const range = parseDayRange(from, to);
    const channel = await this.analytics.channelFor(raw, req.account!);
    const series = await this.analytics.daily(channel, range);
    return sendCsv(res, `${channel.username}-daily-${range.from}-${range.to}.csv`, toCsv(dayColumns, series.days));
  }

  /** One broadcast in detail (owner of its channel or admin). */
  @Get('broadcasts/:id')
  @ApiOkResponse({ type: BroadcastDetailDto })
  @ApiNotFoundResponse({ type: ErrorDto, description: 'unknown broadcast' })
  async broadcast(@Param('id') id: string, @Req() req: AuthRequest): Promise<BroadcastDetailDto> {
    if (!UUID.test(id)) throw new BadRequestException('id must be a UUID');
    return this.analytics.detail(id.toLowerCase(), req.account!);
  }
}
