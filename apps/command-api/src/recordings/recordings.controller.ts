/**
 * HTTP routes of recordings, VODs and clips on the command side (issue 11; docs/contracts.md "Recordings"; bodies
 * are the contract shapes of @eventcast/contracts vod.ts, parsed with zod):
 * - `PUT /me/recording` `{ enabled }` → `{ enabled, position }`: whether the caller's channel keeps its broadcasts as
 *   VODs (`ChannelRecordingChanged`; nothing recorded when unchanged);
 * - `DELETE /videos/:broadcastId` → `{ ok, position, bytesFreed }`: the channel owner or a platform admin deletes a
 *   VOD (event first, then the files);
 * - `POST /clips` → `createClipReplySchema` (201); `DELETE /clips/:clipId` → `{ ok, position }`: the channel owner,
 *   its chat moderators, the clip's creator or an admin;
 * - `POST /admin/retention/run` (admins) → the retention job's summary of one run done now.
 */
import { BadRequestException, Body, Controller, Delete, ForbiddenException, HttpCode, Param, ParseUUIDPipe, Post, Put, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { z } from 'zod';
import { createClipReplySchema, createClipRequestSchema, recordingSettingSchema, type CreateClipReply, type DeleteClipReply, type DeleteRecordingReply, type RecordingSettingReply } from '@eventcast/contracts';
import { DomainError } from '@eventcast/domain';
import { CurrentAccount } from '../accounts/current-account.decorator.js';
import { ErrorDto } from '../accounts/dto/responses.dto.js';
import { JwtAuthGuard } from '../accounts/jwt-auth.guard.js';
import { ChatRooms } from '../chat/chat-rooms.js';
import { metadataOf, type AppRequest } from '../core/correlation.js';
import { Aggregates } from '../core/aggregates.js';
import { ClipRefusal, ClipsService } from './clips.service.js';
import { RecordingsService } from './recordings.service.js';
import { RetentionJob, type RetentionSummary } from './retention.js';
import { readRecordingManifest } from './storage.js';

const CLIP_REQUEST = z.toJSONSchema(createClipRequestSchema, { io: 'input' }) as Record<string, unknown>;
const CLIP_REPLY = z.toJSONSchema(createClipReplySchema, { io: 'output' }) as Record<string, unknown>;
const SETTING = z.toJSONSchema(recordingSettingSchema, { io: 'input' }) as Record<string, unknown>;

/** Parses `body` with `schema`. @throws {BadRequestException} naming every bad field. */
function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new BadRequestException({ message: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), code: 'invalid_request' });
  }
  return parsed.data;
}

/** `PUT /me/recording`. */
@ApiTags('recordings')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto })
@UseGuards(JwtAuthGuard)
@Controller('me/recording')
export class RecordingSettingController {
  constructor(private readonly aggregates: Aggregates) {}

  /**
   * Turns the keeping of the caller's broadcasts as VODs on or off (from the next broadcast: the ingest asks at
   * broadcast start). Idempotent. 200 `{ enabled, position }` (`position`: global position of the event, or of the
   * account's last event when nothing changed); 400 not `{ enabled: boolean }`; 404 unknown account.
   */
  @Put()
  @ApiBody({ schema: SETTING })
  @ApiOkResponse({ description: '`{ enabled, position }`' })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  async set(@CurrentAccount() who: { id: string }, @Body() body: unknown, @Req() req: AppRequest): Promise<RecordingSettingReply> {
    const { enabled } = parseBody(recordingSettingSchema, body);
    const { state, position } = await this.aggregates.accounts.handle(who.id, { type: 'SetRecording', enabled }, metadataOf(req, who.id));
    if (state.status !== 'registered') throw new DomainError('account_not_found', 'account does not exist');
    return { enabled: state.recordingEnabled, position: String(position ?? '0') };
  }
}

/** `DELETE /videos/:broadcastId`. */
@ApiTags('recordings')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto })
@UseGuards(JwtAuthGuard)
@Controller('videos')
export class VideosController {
  constructor(private readonly recordings: RecordingsService) {}

  /**
   * Deletes a VOD: the channel owner (reason `owner`) or a platform admin (reason `admin`). The deletion is recorded
   * (`BroadcastRecordingDeleted`, with the bytes its files took), then the files are deleted (retried by the
   * retention job if that fails). 200 `{ ok, position, bytesFreed }`; 403 anyone else; 404 `recording_not_found`.
   */
  @Delete(':broadcastId')
  @ApiOkResponse({ description: '`{ ok: true, position, bytesFreed }`' })
  @ApiForbiddenResponse({ type: ErrorDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  async remove(
    @CurrentAccount() who: { id: string },
    @Param('broadcastId', new ParseUUIDPipe()) broadcastId: string,
    @Req() req: AppRequest,
  ): Promise<DeleteRecordingReply> {
    const manifest = await readRecordingManifest(this.recordings.storage, broadcastId);
    if (!manifest) throw new DomainError('recording_not_found', `broadcast ${broadcastId} has no recording`);
    const owner = manifest.channelId === who.id;
    if (!owner && !(await this.recordings.isAdminAccount(who.id))) throw new ForbiddenException('only the channel owner or an admin may delete this video');
    const out = await this.recordings.deleteRecording(manifest.channelId, broadcastId, owner ? 'owner' : 'admin', who.id, metadataOf(req, who.id));
    return { ok: true, position: out.position, bytesFreed: out.bytesFreed };
  }
}

/** `POST /clips`, `DELETE /clips/:clipId`. */
@ApiTags('recordings')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto })
@UseGuards(JwtAuthGuard)
@Controller('clips')
export class ClipsController {
  constructor(
    private readonly clips: ClipsService,
    private readonly recordings: RecordingsService,
    private readonly rooms: ChatRooms,
    private readonly aggregates: Aggregates,
  ) {}

  /**
   * Clips the last `durationSeconds` of a live broadcast, or `[startSeconds, startSeconds + durationSeconds)` of a
   * recording (keyframe-aligned, stream copy, MP4 + JPEG thumbnail). 201 `createClipReplySchema`; 400
   * `invalid_request` (durations outside 5–60 s, blank title, …); 404 `broadcast_not_found`; 409 `not_recorded` /
   * `not_live`; 429 `clip_rate_limited` with `Retry-After`; 503 `clip_busy` / `clip_timeout` with `Retry-After`.
   */
  @Post()
  @ApiBody({ schema: CLIP_REQUEST })
  @ApiCreatedResponse({ schema: CLIP_REPLY })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto })
  @ApiTooManyRequestsResponse({ type: ErrorDto })
  @ApiServiceUnavailableResponse({ type: ErrorDto })
  async create(
    @CurrentAccount() who: { id: string },
    @Body() body: unknown,
    @Req() req: AppRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<CreateClipReply> {
    const request = parseBody(createClipRequestSchema, body);
    try {
      return await this.clips.create(who.id, request, metadataOf(req, who.id));
    } catch (err) {
      if (err instanceof ClipRefusal && err.retryAfterSeconds !== undefined) res.header('Retry-After', String(err.retryAfterSeconds));
      throw err;
    }
  }

  /**
   * Deletes a clip: the channel owner, the channel's chat moderators, the clip's creator (reason `owner`) or a
   * platform admin (reason `admin`). 200 `{ ok, position }`; 403 anyone else; 404 `clip_not_found`.
   */
  @Delete(':clipId')
  @ApiOkResponse({ description: '`{ ok: true, position }`' })
  @ApiForbiddenResponse({ type: ErrorDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  async remove(@CurrentAccount() who: { id: string }, @Param('clipId', new ParseUUIDPipe()) clipId: string, @Req() req: AppRequest): Promise<DeleteClipReply> {
    const { state } = await this.aggregates.clips.load(clipId);
    if (state.status !== 'created') throw new DomainError('clip_not_found', 'no such clip');
    let allowed = who.id === state.channelId || who.id === state.createdBy;
    if (!allowed) allowed = (await this.rooms.roomState(state.channelId)).state.moderators.has(who.id);
    const admin = !allowed && (await this.recordings.isAdminAccount(who.id));
    if (!allowed && !admin) throw new ForbiddenException("only the channel owner, its moderators, the clip's creator or an admin may delete this clip");
    const out = await this.recordings.deleteClip(clipId, admin ? 'admin' : 'owner', who.id, metadataOf(req, who.id));
    return { ok: true, position: out.position };
  }
}

/** `POST /admin/retention/run`. */
@ApiTags('admin')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto })
@UseGuards(JwtAuthGuard)
@Controller('admin/retention')
export class AdminRetentionController {
  constructor(
    private readonly job: RetentionJob,
    private readonly recordings: RecordingsService,
  ) {}

  /**
   * Runs the recordings retention job now (admins: `EVENTCAST_ADMINS`) and returns its summary; `ran: false` when
   * another command-api is running it at this moment. 403 for anyone else.
   */
  @Post('run')
  @HttpCode(200)
  @ApiOkResponse({ description: 'the run summary' })
  @ApiForbiddenResponse({ type: ErrorDto })
  async run(@CurrentAccount() who: { id: string }): Promise<RetentionSummary> {
    if (!(await this.recordings.isAdminAccount(who.id))) throw new ForbiddenException('only platform admins may run the retention job');
    return this.job.runNow();
  }
}
