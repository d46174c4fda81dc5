/**
 * The owner's integrations (docs/contracts.md "Integrations"; Bearer JWT of the owner only — API tokens cannot manage
 * tokens or webhooks): API tokens (create → the token is shown once, list, revoke) and outgoing webhooks (register →
 * the signing secret is shown once, list, disable/enable, delete). Deliveries are made by query-api, which also serves
 * the delivery log.
 */
import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Req, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { ApiTokenState, IntegrationsState, WebhookState } from '@eventcast/domain';
import { apiTokenDisplayPrefix, encryptSecret, generateApiToken, generateWebhookSecret, hashApiToken } from '@eventcast/platform';
import { CurrentAccount } from '../accounts/current-account.decorator.js';
import { ErrorDto } from '../accounts/dto/responses.dto.js';
import { JwtAuthGuard } from '../accounts/jwt-auth.guard.js';
import type { CommandApiConfig } from '../core/config.js';
import { metadataOf, type AppRequest } from '../core/correlation.js';
import { CONFIG } from '../core/tokens.js';
import { ChangeIntegrationsCommand } from './commands/integrations.command.js';
import {
  ApiTokenDto,
  ApiTokenListDto,
  CreateApiTokenDto,
  CreatedApiTokenDto,
  CreatedWebhookDto,
  CreateWebhookDto,
  WebhookDto,
  WebhookListDto,
} from './dto/integrations.dto.js';
import { IntegrationsAggregates } from './integrations-aggregates.js';
import { validateWebhookUrl } from './webhook-url.js';

interface Owner {
  id: string;
  username: string;
}

function tokenView(t: ApiTokenState): ApiTokenDto {
  return { id: t.tokenId, name: t.name, scopes: [...t.scopes], botName: t.botName, prefix: t.prefix, revokedAt: t.revokedAt };
}

function webhookView(w: WebhookState): WebhookDto {
  return { id: w.webhookId, url: w.url, eventTypes: [...w.eventTypes], enabled: w.enabled };
}

/** Default bot name: `<username>_bot`, the username shortened to fit 24 characters. */
export function defaultBotName(username: string): string {
  return `${username.slice(0, 20)}_bot`;
}

/** `/me/integrations`: API tokens and webhooks of the caller's channel. */
@ApiTags('integrations')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto, description: 'missing or invalid JWT' })
@ApiForbiddenResponse({ type: ErrorDto, description: 'an API token was used (these routes need the owner\'s JWT)' })
@UseGuards(JwtAuthGuard)
@Controller('me/integrations')
export class IntegrationsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly aggregates: IntegrationsAggregates,
    @Inject(CONFIG) private readonly config: CommandApiConfig,
  ) {}

  /** Creates a token; 201 with the token (shown once). 400 validation; 409 too many tokens (25 live). */
  @Post('tokens')
  @ApiCreatedResponse({ type: CreatedApiTokenDto })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto })
  async createToken(@CurrentAccount() who: Owner, @Body() dto: CreateApiTokenDto, @Req() req: AppRequest): Promise<CreatedApiTokenDto> {
    const token = generateApiToken(who.id);
    const tokenId = randomUUID();
    const name = dto.name.trim();
    if (name.length === 0) throw new BadRequestException('name must not be blank');
    const command = {
      type: 'CreateApiToken' as const,
      channelId: who.id,
      tokenId,
      name,
      scopes: dto.scopes,
      botName: dto.botName ?? defaultBotName(who.username),
      tokenHash: hashApiToken(token),
      prefix: apiTokenDisplayPrefix(token),
    };
    const state = await this.change(who, command, req);
    return { ...tokenView(state.tokens.get(tokenId)!), token };
  }

  /** Every token of the caller's channel, revoked ones included (with `revokedAt`), oldest first. */
  @Get('tokens')
  @ApiOkResponse({ type: ApiTokenListDto })
  async listTokens(@CurrentAccount() who: Owner): Promise<ApiTokenListDto> {
    const state = await this.aggregates.load(who.id);
    return { tokens: [...state.tokens.values()].map(tokenView) };
  }

  /** Revokes a token at once (idempotent); 404 unknown id. */
  @Delete('tokens/:id')
  @ApiOkResponse({ type: ApiTokenDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  async revokeToken(@CurrentAccount() who: Owner, @Param('id', new ParseUUIDPipe()) id: string, @Req() req: AppRequest): Promise<ApiTokenDto> {
    const state = await this.change(who, { type: 'RevokeApiToken', channelId: who.id, tokenId: id, now: new Date() }, req);
    return tokenView(state.tokens.get(id)!);
  }

  /** Registers a webhook; 201 with its signing secret (shown once). 400 bad URL or event type; 409 too many (10). */
  @Post('webhooks')
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto })
  async createWebhook(@CurrentAccount() who: Owner, @Body() dto: CreateWebhookDto, @Req() req: AppRequest): Promise<CreatedWebhookDto> {
    let url: string;
    try {
      url = validateWebhookUrl(dto.url, this.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? false);
    } catch (err) {
      throw new BadRequestException((err as Error).message);
    }
    const secret = generateWebhookSecret();
    const webhookId = randomUUID();
    const command = {
      type: 'RegisterWebhook' as const,
      channelId: who.id,
      webhookId,
      url,
      eventTypes: dto.eventTypes,
      secretCiphertext: encryptSecret(secret, this.config.STREAM_KEY_SECRET),
    };
    const state = await this.change(who, command, req);
    return { ...webhookView(state.webhooks.get(webhookId)!), secret };
  }

  /** Live webhooks of the caller's channel (deleted ones are gone). */
  @Get('webhooks')
  @ApiOkResponse({ type: WebhookListDto })
  async listWebhooks(@CurrentAccount() who: Owner): Promise<WebhookListDto> {
    const state = await this.aggregates.load(who.id);
    return { webhooks: [...state.webhooks.values()].map(webhookView) };
  }

  /** Stops deliveries (events meanwhile are not delivered later); idempotent; 404 unknown. */
  @Post('webhooks/:id/disable')
  @HttpCode(200)
  @ApiOkResponse({ type: WebhookDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  async disableWebhook(@CurrentAccount() who: Owner, @Param('id', new ParseUUIDPipe()) id: string, @Req() req: AppRequest): Promise<WebhookDto> {
    const state = await this.change(who, { type: 'DisableWebhook', channelId: who.id, webhookId: id }, req);
    return webhookView(state.webhooks.get(id)!);
  }

  /** Resumes deliveries; idempotent; 404 unknown. */
  @Post('webhooks/:id/enable')
  @HttpCode(200)
  @ApiOkResponse({ type: WebhookDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  async enableWebhook(@CurrentAccount() who: Owner, @Param('id', new ParseUUIDPipe()) id: string, @Req() req: AppRequest): Promise<WebhookDto> {
    const state = await this.change(who, { type: 'EnableWebhook', channelId: who.id, webhookId: id }, req);
    return webhookView(state.webhooks.get(id)!);
  }

  /** Deletes a webhook for good (pending retries are dropped); 404 unknown. */
  @Delete('webhooks/:id')
  @ApiOkResponse({ description: '`{ ok: true }`' })
  @ApiNotFoundResponse({ type: ErrorDto })
  async deleteWebhook(@CurrentAccount() who: Owner, @Param('id', new ParseUUIDPipe()) id: string, @Req() req: AppRequest): Promise<{ ok: true }> {
    await this.change(who, { type: 'DeleteWebhook', channelId: who.id, webhookId: id }, req);
    return { ok: true };
  }

  private change(who: Owner, command: ChangeIntegrationsCommand['command'], req: AppRequest): Promise<IntegrationsState> {
    return this.commands.execute(new ChangeIntegrationsCommand(who.id, command, metadataOf(req, who.id)));
  }
}

