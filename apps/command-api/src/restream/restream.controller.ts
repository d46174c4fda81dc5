/**
 * The owner's restream targets (issue 10 item 7; docs/contracts.md "Restream"; Bearer JWT of the owner only): list
 * (with each target's last live state), add (name, rtmp(s) server URL, stream key — the key is sealed under
 * STREAM_KEY_SECRET at once and never returned), enable/disable, remove. Bodies are the contract shapes of
 * @eventcast/contracts (restream.ts), parsed with zod.
 */
import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { restreamTargetAddSchema, restreamTargetListSchema, restreamTargetViewSchema, type RestreamTargetList, type RestreamTargetView } from '@eventcast/contracts';
import type { RestreamCommand, RestreamState, RestreamTargetInfo } from '@eventcast/domain';
import { encryptSecret } from '@eventcast/platform';
import { CurrentAccount } from '../accounts/current-account.decorator.js';
import { ErrorDto } from '../accounts/dto/responses.dto.js';
import { JwtAuthGuard } from '../accounts/jwt-auth.guard.js';
import type { CommandApiConfig } from '../core/config.js';
import { metadataOf, type AppRequest } from '../core/correlation.js';
import { CONFIG } from '../core/tokens.js';
import { RestreamAggregates } from './restream-aggregates.js';
import { validateRestreamUrl } from './restream-url.js';

/** The owner's view of a target: never the key. */
export function restreamTargetView(t: RestreamTargetInfo): RestreamTargetView {
  return { id: t.targetId, name: t.name, url: t.url, enabled: t.enabled, live: t.live ? { ...t.live } : null };
}

/** OpenAPI schemas of the contract shapes (JSON Schema from the zod schemas, so the docs cannot drift). */
const VIEW = z.toJSONSchema(restreamTargetViewSchema, { io: 'output' }) as Record<string, unknown>;
const LIST = z.toJSONSchema(restreamTargetListSchema, { io: 'output' }) as Record<string, unknown>;
const ADD = z.toJSONSchema(restreamTargetAddSchema, { io: 'input' }) as Record<string, unknown>;

/** `/me/restream-targets`: the caller's channel's restream targets. */
@ApiTags('restream')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto, description: 'missing or invalid JWT' })
@ApiForbiddenResponse({ type: ErrorDto, description: "an API token was used (these routes need the owner's JWT)" })
@UseGuards(JwtAuthGuard)
@Controller('me/restream-targets')
export class RestreamController {
  constructor(
    private readonly aggregates: RestreamAggregates,
    @Inject(CONFIG) private readonly config: CommandApiConfig,
  ) {}

  /** Every target, oldest first, with its last reported state. */
  @Get()
  @ApiOkResponse({ schema: LIST })
  async list(@CurrentAccount() who: { id: string }): Promise<RestreamTargetList> {
    const state = await this.aggregates.load(who.id);
    return { targets: [...state.targets.values()].map(restreamTargetView) };
  }

  /**
   * Adds a target (enabled); 201 with its view. 400: body not a `restreamTargetAddSchema` (reasons joined by "; "), a
   * URL that is not rtmp(s), has credentials/query, names a private host or contains the stream key in its path; 409: already 5 targets.
   */
  @Post()
  @ApiBody({ schema: ADD })
  @ApiCreatedResponse({ schema: VIEW })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto })
  async add(@CurrentAccount() who: { id: string }, @Body() body: unknown, @Req() req: AppRequest): Promise<RestreamTargetView> {
    const parsed = restreamTargetAddSchema.safeParse(body);
    if (!parsed.success) throw new BadRequestException(parsed.error.issues.map((i) => i.message).join('; '));
    let url: string;
    try {
      url = validateRestreamUrl(parsed.data.url, this.config.RESTREAM_ALLOW_PRIVATE_TARGETS ?? false, parsed.data.streamKey);
    } catch (err) {
      throw new BadRequestException((err as Error).message);
    }
    const targetId = randomUUID();
    const command: RestreamCommand = {
      type: 'AddRestreamTarget',
      channelId: who.id,
      targetId,
      name: parsed.data.name,
      url,
      keyCiphertext: encryptSecret(parsed.data.streamKey, this.config.STREAM_KEY_SECRET),
    };
    const state = await this.change(who.id, command, req);
    return restreamTargetView(state.targets.get(targetId)!);
  }

  /** Switches a target on (idempotent; while live, the ingest starts it within its poll interval); 404 unknown. */
  @Post(':id/enable')
  @HttpCode(200)
  @ApiOkResponse({ schema: VIEW })
  @ApiNotFoundResponse({ type: ErrorDto })
  async enable(@CurrentAccount() who: { id: string }, @Param('id', new ParseUUIDPipe()) id: string, @Req() req: AppRequest): Promise<RestreamTargetView> {
    const state = await this.change(who.id, { type: 'EnableRestreamTarget', channelId: who.id, targetId: id }, req);
    return restreamTargetView(state.targets.get(id)!);
  }

  /** Switches a target off (idempotent; while live, the ingest stops it within its poll interval); 404 unknown. */
  @Post(':id/disable')
  @HttpCode(200)
  @ApiOkResponse({ schema: VIEW })
  @ApiNotFoundResponse({ type: ErrorDto })
  async disable(@CurrentAccount() who: { id: string }, @Param('id', new ParseUUIDPipe()) id: string, @Req() req: AppRequest): Promise<RestreamTargetView> {
    const state = await this.change(who.id, { type: 'DisableRestreamTarget', channelId: who.id, targetId: id }, req);
    return restreamTargetView(state.targets.get(id)!);
  }

  /** Removes a target for good; 404 unknown. */
  @Delete(':id')
  @ApiOkResponse({ description: '`{ ok: true }`' })
  @ApiNotFoundResponse({ type: ErrorDto })
  async remove(@CurrentAccount() who: { id: string }, @Param('id', new ParseUUIDPipe()) id: string, @Req() req: AppRequest): Promise<{ ok: true }> {
    await this.change(who.id, { type: 'RemoveRestreamTarget', channelId: who.id, targetId: id }, req);
    return { ok: true };
  }

  private async change(channelId: string, command: RestreamCommand, req: AppRequest): Promise<RestreamState> {
    return (await this.aggregates.handle(channelId, command, metadataOf(req, channelId))).state;
  }
}
