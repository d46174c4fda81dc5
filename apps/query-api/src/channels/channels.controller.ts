/**
 * `GET /channels/live`, `GET /channels`, `GET /channels/:username`.
 */
import { BadRequestException, Controller, Get, Inject, NotFoundException, Param, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { usernameSchema } from '@eventcast/events';
import { ErrorDto } from '../common/error.dto.js';
import { QUERY_API_RUNTIME, type QueryApiRuntime } from '../common/tokens.js';
import { ChannelListDto, ChannelViewDto } from './channel.dto.js';
import { ChannelsService, playbackUrl, thumbnailUrl, vodPlaybackUrl, type ChannelUrls } from './channels.service.js';

/** The part of the express request used here: the host name (no port) the client asked for. */
interface HostRequest {
  hostname: string;
}

/** Channel directory and channel pages. */
@ApiTags('channels')
@Controller('channels')
export class ChannelsController {
  constructor(
    @Inject(ChannelsService) private readonly channels: ChannelsService,
    @Inject(QUERY_API_RUNTIME) private readonly runtime: QueryApiRuntime,
  ) {}

  /** Live channels, newest broadcast first. */
  @Get('live')
  @ApiOkResponse({ type: ChannelListDto })
  async live(@Req() req: HostRequest): Promise<ChannelListDto> {
    return { channels: await this.channels.list(true, this.urls(req)) };
  }

  /** All channels, live first. */
  @Get()
  @ApiOkResponse({ type: ChannelListDto })
  async all(@Req() req: HostRequest): Promise<ChannelListDto> {
    return { channels: await this.channels.list(false, this.urls(req)) };
  }

  /**
   * One channel. The username is matched case-insensitively (usernames are stored lower-case).
   * @throws {BadRequestException} when it is not 3–24 chars of `a-z0-9_`.
   * @throws {NotFoundException} when no such channel exists.
   */
  @Get(':username')
  @ApiOkResponse({ type: ChannelViewDto })
  @ApiBadRequestResponse({ type: ErrorDto, description: 'invalid username' })
  @ApiNotFoundResponse({ type: ErrorDto, description: 'unknown channel' })
  async one(@Param('username') raw: string, @Req() req: HostRequest): Promise<ChannelViewDto> {
    const parsed = usernameSchema.safeParse(raw.toLowerCase());
    if (!parsed.success) throw new BadRequestException(`invalid username: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    const channel = await this.channels.get(parsed.data, this.urls(req));
    if (!channel) throw new NotFoundException(`channel "${parsed.data}" not found`);
    return channel;
  }

  private urls(req: HostRequest): ChannelUrls {
    const now = Date.now();
    return {
      playback: (username) => playbackUrl(this.runtime.hlsPublicUrl, req.hostname, username),
      thumbnail: (username) => thumbnailUrl(this.runtime.hlsPublicUrl, req.hostname, username, now),
      dvr: (broadcastId) => vodPlaybackUrl(this.runtime.hlsPublicUrl, req.hostname, broadcastId),
    };
  }
}
