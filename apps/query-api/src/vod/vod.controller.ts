/**
 * Recording queries (issue 11; shapes in @eventcast/contracts vod.ts): `GET /channels/:username/videos`,
 * `GET /videos/:broadcastId`, `…/chat`, `…/moderation` (owner, channel moderators, admins), `…/activity`,
 * `GET /channels/:username/clips`, `GET /clips/:clipId`, `GET /clips/:clipId/chat` and `GET /admin/storage` (admins).
 * Every parameter is validated (400 `invalid_request` with the reason); read-your-writes (`?minPosition=`) applies as on
 * every GET (common/read-your-writes.interceptor.ts).
 */
import { Controller, ForbiddenException, Get, Inject, Param, Query, Req, UseGuards } from '@nestjs/common';
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
import { CHAT_REPLAY_PAGE_DEFAULT, CHAT_REPLAY_PAGE_MAX, VOD_LIST_PAGE_DEFAULT, VOD_LIST_PAGE_MAX } from '@eventcast/contracts';
import { LocalDiskStorage } from '@eventcast/media-storage';
import { isAdmin, loadConfig } from '@eventcast/platform';
import { AdminGuard } from '../admin/admin.guard.js';
import { BearerAuthGuard, type AuthRequest } from '../auth/bearer-auth.guard.js';
import { hlsBase } from '../channels/channels.service.js';
import { ChatService } from '../chat/chat.service.js';
import { ErrorDto } from '../common/error.dto.js';
import { parseUsername } from '../common/params.js';
import { QUERY_API_RUNTIME, type QueryApiRuntime } from '../common/tokens.js';
import { recordingsConfigFromEnv } from '../config.js';
import { parseCursor, parseFromSeconds, parseLimit, parseUuid } from './replay.js';
import {
  ActivityStripDto,
  ChatReplayPageDto,
  ClipListDto,
  ClipViewDto,
  ReplayModerationListDto,
  StorageUsageDto,
  VodDetailDto,
  VodListDto,
} from './vod.dto.js';
import { VodService, type MediaUrls } from './vod.service.js';

/** The part of the express request used here: the host name (no port) the client asked for. */
interface HostRequest {
  hostname: string;
}

const CURSOR_DOC = { name: 'cursor', required: false, description: 'the nextCursor of the previous page' };

/** VODs, chat replay and clips. */
@ApiTags('videos')
@Controller()
export class VodController {
  private readonly admins: string[];

  constructor(
    @Inject(VodService) private readonly vods: VodService,
    @Inject(ChatService) private readonly chat: ChatService,
    @Inject(QUERY_API_RUNTIME) private readonly runtime: QueryApiRuntime,
  ) {
    this.admins = loadConfig(process.env).EVENTCAST_ADMINS;
  }

  /** A channel's VODs, newest first. @throws 400 bad username/cursor/limit, 404 unknown channel. */
  @Get('channels/:username/videos')
  @ApiOkResponse({ type: VodListDto })
  @ApiQuery(CURSOR_DOC)
  @ApiQuery({ name: 'limit', required: false, description: `1–${VOD_LIST_PAGE_MAX}, default ${VOD_LIST_PAGE_DEFAULT}` })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiNotFoundResponse({ type: ErrorDto, description: 'unknown channel' })
  async list(@Param('username') raw: string, @Req() req: HostRequest, @Query('cursor') cursor?: string, @Query('limit') limit?: string): Promise<VodListDto> {
    const username = parseUsername(raw);
    const page = { cursor: parseCursor(cursor), limit: parseLimit(limit, VOD_LIST_PAGE_DEFAULT, VOD_LIST_PAGE_MAX) };
    return this.vods.list(username, page.cursor, page.limit, this.urls(req));
  }

  /** One VOD with chapters, renditions and timeline. @throws 400 not a UUID, 404 `video_not_found`. */
  @Get('videos/:broadcastId')
  @ApiOkResponse({ type: VodDetailDto })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiNotFoundResponse({ type: ErrorDto, description: '`video_not_found`' })
  async detail(@Param('broadcastId') raw: string, @Req() req: HostRequest): Promise<VodDetailDto> {
    return this.vods.detail(parseUuid(raw, 'broadcastId'), this.urls(req));
  }

  /** A page of the VOD's chat replay from media time `from` (seconds). @throws 400, 404 `video_not_found`. */
  @Get('videos/:broadcastId/chat')
  @ApiOkResponse({ type: ChatReplayPageDto })
  @ApiQuery({ name: 'from', required: false, description: 'media time in seconds (default 0)' })
  @ApiQuery(CURSOR_DOC)
  @ApiQuery({ name: 'limit', required: false, description: `1–${CHAT_REPLAY_PAGE_MAX}, default ${CHAT_REPLAY_PAGE_DEFAULT}` })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiNotFoundResponse({ type: ErrorDto, description: '`video_not_found`' })
  async chatReplay(@Param('broadcastId') raw: string, @Query('from') from?: string, @Query('cursor') cursor?: string, @Query('limit') limit?: string): Promise<ChatReplayPageDto> {
    const id = parseUuid(raw, 'broadcastId');
    const page = replayPage(from, cursor, limit);
    return this.vods.replay(await this.vods.vodSource(id), page.fromMs, page.cursor, page.limit);
  }

  /**
   * The moderation actions during the broadcast, with media offsets: the channel owner, its moderators and platform
   * admins only. @throws 401 no/invalid token, 403 `forbidden`, 404 `video_not_found`.
   */
  @Get('videos/:broadcastId/moderation')
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOkResponse({ type: ReplayModerationListDto })
  @ApiUnauthorizedResponse({ type: ErrorDto, description: 'missing or invalid bearer token' })
  @ApiForbiddenResponse({ type: ErrorDto, description: 'not the owner, a moderator or an admin' })
  @ApiNotFoundResponse({ type: ErrorDto, description: '`video_not_found`' })
  async moderation(@Param('broadcastId') raw: string, @Req() req: AuthRequest): Promise<ReplayModerationListDto> {
    const id = parseUuid(raw, 'broadcastId');
    const account = req.account!;
    const channelId = await this.vods.vodChannel(id);
    const allowed =
      account.id === channelId || isAdmin({ EVENTCAST_ADMINS: this.admins }, account.username) || (await this.chat.isModerator(channelId, account.id));
    if (!allowed) {
      throw new ForbiddenException({ message: "only the channel's owner, its moderators and admins see the moderation actions of a VOD", code: 'forbidden' });
    }
    return (await this.vods.moderation(id)).list;
  }

  /** Chat messages and peak viewers per bucket of media time. @throws 400, 404 `video_not_found`. */
  @Get('videos/:broadcastId/activity')
  @ApiOkResponse({ type: ActivityStripDto })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiNotFoundResponse({ type: ErrorDto, description: '`video_not_found`' })
  async activity(@Param('broadcastId') raw: string): Promise<ActivityStripDto> {
    return this.vods.activity(parseUuid(raw, 'broadcastId'));
  }

  /** A channel's clips, newest first. @throws 400, 404 unknown channel. */
  @Get('channels/:username/clips')
  @ApiTags('clips')
  @ApiOkResponse({ type: ClipListDto })
  @ApiQuery(CURSOR_DOC)
  @ApiQuery({ name: 'limit', required: false, description: `1–${VOD_LIST_PAGE_MAX}, default ${VOD_LIST_PAGE_DEFAULT}` })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiNotFoundResponse({ type: ErrorDto, description: 'unknown channel' })
  async clips(@Param('username') raw: string, @Req() req: HostRequest, @Query('cursor') cursor?: string, @Query('limit') limit?: string): Promise<ClipListDto> {
    const username = parseUsername(raw);
    const page = { cursor: parseCursor(cursor), limit: parseLimit(limit, VOD_LIST_PAGE_DEFAULT, VOD_LIST_PAGE_MAX) };
    return this.vods.clipList(username, page.cursor, page.limit, this.urls(req));
  }

  /** One clip. @throws 400 not a UUID, 404 `clip_not_found`. */
  @Get('clips/:clipId')
  @ApiTags('clips')
  @ApiOkResponse({ type: ClipViewDto })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiNotFoundResponse({ type: ErrorDto, description: '`clip_not_found`' })
  async clip(@Param('clipId') raw: string, @Req() req: HostRequest): Promise<ClipViewDto> {
    return this.vods.clip(parseUuid(raw, 'clipId'), this.urls(req));
  }

  /** The chat of a clip's range, offsets relative to the clip's first frame. @throws 400, 404 `clip_not_found`. */
  @Get('clips/:clipId/chat')
  @ApiTags('clips')
  @ApiOkResponse({ type: ChatReplayPageDto })
  @ApiQuery({ name: 'from', required: false, description: 'seconds from the start of the clip (default 0)' })
  @ApiQuery(CURSOR_DOC)
  @ApiQuery({ name: 'limit', required: false, description: `1–${CHAT_REPLAY_PAGE_MAX}, default ${CHAT_REPLAY_PAGE_DEFAULT}` })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiNotFoundResponse({ type: ErrorDto, description: '`clip_not_found`' })
  async clipChat(@Param('clipId') raw: string, @Query('from') from?: string, @Query('cursor') cursor?: string, @Query('limit') limit?: string): Promise<ChatReplayPageDto> {
    const id = parseUuid(raw, 'clipId');
    const page = replayPage(from, cursor, limit);
    return this.vods.replay(await this.vods.clipSource(id), page.fromMs, page.cursor, page.limit);
  }

  /**
   * Disk used by recordings and clips (the local-disk media storage under `RECORDINGS_DIR`), their numbers in the read
   * models, the retention and the budget (admins). @throws 401, 403.
   */
  @Get('admin/storage')
  @ApiTags('admin')
  @UseGuards(AdminGuard)
  @ApiBearerAuth()
  @ApiOkResponse({ type: StorageUsageDto })
  @ApiUnauthorizedResponse({ type: ErrorDto, description: 'missing or invalid bearer token' })
  @ApiForbiddenResponse({ type: ErrorDto, description: 'not a platform admin' })
  async storage(): Promise<StorageUsageDto> {
    const config = this.runtime.recordings ?? recordingsConfigFromEnv(process.env);
    const storage = new LocalDiskStorage(config.dir);
    const [recordingsBytes, clipsBytes, counts] = await Promise.all([storage.usage('recordings/'), storage.usage('clips/'), this.vods.counts()]);
    return {
      usedBytes: recordingsBytes + clipsBytes,
      recordingsBytes,
      clipsBytes,
      ...counts,
      retentionDays: config.retentionDays,
      budgetBytes: config.budgetBytes,
    };
  }

  private urls(req: HostRequest): MediaUrls {
    const base = hlsBase(this.runtime.hlsPublicUrl, req.hostname);
    return { media: (path) => `${base}${path}` };
  }
}

/** Validates `?from=&cursor=&limit=` of a chat replay (all at once, before any read). */
function replayPage(from: string | undefined, cursor: string | undefined, limit: string | undefined) {
  return { fromMs: parseFromSeconds(from), cursor: parseCursor(cursor), limit: parseLimit(limit, CHAT_REPLAY_PAGE_DEFAULT, CHAT_REPLAY_PAGE_MAX) };
}
