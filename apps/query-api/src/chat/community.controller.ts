/**
 * `GET /channels/:username/emotes`, `GET /channels/:username/emotes/:code` (the image) and
 * `GET /channels/:username/followers`.
 */
import { BadRequestException, Controller, Get, Header, Inject, NotFoundException, Param, Req, StreamableFile } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ErrorDto } from '../common/error.dto.js';
import { EMOTE_CODE } from '../common/params.js';
import { EmoteListDto, FollowerCountDto } from './chat.dto.js';
import { ChatService } from './chat.service.js';
import { CommunityService } from './community.service.js';

/** The part of the express request used to build absolute emote URLs. */
interface UrlRequest {
  protocol: string;
  get(name: string): string | undefined;
}

/** Emotes and followers of a channel (public). */
@ApiTags('channels')
@Controller('channels/:username')
@ApiBadRequestResponse({ type: ErrorDto, description: 'invalid username or emote code' })
@ApiNotFoundResponse({ type: ErrorDto, description: 'unknown channel or emote' })
export class CommunityController {
  constructor(
    @Inject(ChatService) private readonly chat: ChatService,
    @Inject(CommunityService) private readonly community: CommunityService,
  ) {}

  /** Emote codes with absolute image URLs on this server (`<proto>://<Host>/channels/<username>/emotes/<code>`). */
  @Get('emotes')
  @ApiOkResponse({ type: EmoteListDto })
  async emotes(@Param('username') raw: string, @Req() req: UrlRequest): Promise<EmoteListDto> {
    const channel = await this.chat.requireChannel(raw);
    const base = `${req.protocol}://${req.get('host') ?? 'localhost'}/channels/${encodeURIComponent(channel.username)}/emotes/`;
    return { emotes: (await this.community.emoteCodes(channel.id)).map((code) => ({ code, url: base + code })) };
  }

  /**
   * The emote image with its content type, cacheable for 5 minutes.
   * @throws {BadRequestException} code not `[A-Za-z0-9_]{2,32}`. @throws {NotFoundException} unknown channel or code.
   */
  @Get('emotes/:code')
  @Header('Cache-Control', 'public, max-age=300')
  @Header('X-Content-Type-Options', 'nosniff')
  @ApiProduces('image/png', 'image/gif', 'image/webp')
  @ApiOkResponse({ description: 'the image', schema: { type: 'string', format: 'binary' } })
  async emote(@Param('username') raw: string, @Param('code') code: string): Promise<StreamableFile> {
    if (!EMOTE_CODE.test(code)) throw new BadRequestException('invalid emote code: 2–32 characters of A-Z, a-z, 0-9 and _');
    const channel = await this.chat.requireChannel(raw);
    const emote = await this.community.emote(channel.id, code);
    if (!emote) throw new NotFoundException(`emote "${code}" not found`);
    return new StreamableFile(emote.image, { type: emote.contentType, length: emote.image.length });
  }

  /** Follower count. */
  @Get('followers')
  @ApiOkResponse({ type: FollowerCountDto })
  async followers(@Param('username') raw: string): Promise<FollowerCountDto> {
    return { count: await this.community.followerCount((await this.chat.requireChannel(raw)).id) };
  }
}
