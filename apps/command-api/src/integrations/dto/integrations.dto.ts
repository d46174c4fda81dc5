/** Bodies and replies of `/me/integrations/*` (docs/contracts.md "Integrations"); each implements its shape of @eventcast/contracts. */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  API_TOKEN_SCOPES,
  WEBHOOK_EVENT_TYPES,
  type ApiToken,
  type ApiTokenList,
  type ApiTokenScope,
  type CreateApiTokenRequest,
  type CreateWebhookRequest,
  type CreatedApiToken,
  type CreatedWebhook,
  type Webhook,
  type WebhookEventType,
  type WebhookList,
} from '@eventcast/contracts';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { IsFreeText } from '../../core/free-text.js';

/** POST /me/integrations/tokens. */
export class CreateApiTokenDto implements CreateApiTokenRequest {
  @ApiProperty({ example: 'stream overlay', minLength: 1, maxLength: 60 })
  @IsString({ message: 'name must be a string' })
  @MinLength(1, { message: 'name must not be empty' })
  @MaxLength(60, { message: 'name must be at most 60 characters' })
  @IsFreeText('name')
  name!: string;

  @ApiProperty({ enum: API_TOKEN_SCOPES, isArray: true, example: ['chat:send', 'chat:read'] })
  @IsArray({ message: 'scopes must be an array' })
  @ArrayMinSize(1, { message: 'scopes must name at least one scope' })
  @ArrayMaxSize(API_TOKEN_SCOPES.length, { message: `scopes must have at most ${API_TOKEN_SCOPES.length} entries` })
  @IsIn(API_TOKEN_SCOPES, { each: true, message: `each scope must be one of ${API_TOKEN_SCOPES.join(', ')}` })
  scopes!: ApiTokenScope[];

  @ApiPropertyOptional({ example: 'alice_bot', description: 'name of the bot in chat (3–24 of a-z, 0-9, _); default `<username>_bot`' })
  @IsOptional()
  @IsString({ message: 'botName must be a string' })
  @Matches(/^[a-z0-9_]{3,24}$/, { message: 'botName must be 3–24 characters of a-z, 0-9 and _' })
  botName?: string;
}

/** A token as listed (never the token itself). */
export class ApiTokenDto implements ApiToken {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: API_TOKEN_SCOPES, isArray: true }) scopes!: ApiTokenScope[];
  @ApiProperty() botName!: string;
  @ApiProperty({ example: 'ect_3f2c1b0a', description: 'first 12 characters, to recognise the token' }) prefix!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) revokedAt!: string | null;
}

/** Reply of POST /me/integrations/tokens: the only time the token is shown. */
export class CreatedApiTokenDto extends ApiTokenDto implements CreatedApiToken {
  @ApiProperty({ example: 'ect_3f2c…', description: 'the token; shown once, store it now' }) token!: string;
}

/** GET /me/integrations/tokens. */
export class ApiTokenListDto implements ApiTokenList {
  @ApiProperty({ type: [ApiTokenDto] }) tokens!: ApiTokenDto[];
}

/** POST /me/integrations/webhooks. */
export class CreateWebhookDto implements CreateWebhookRequest {
  @ApiProperty({ example: 'https://example.org/hooks/eventcast', description: 'http or https, ≤ 2000 characters' })
  @IsString({ message: 'url must be a string' })
  @IsFreeText('url')
  url!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, example: ['ChatMessageSent', 'BroadcastStarted'] })
  @IsArray({ message: 'eventTypes must be an array' })
  @ArrayMinSize(1, { message: 'eventTypes must name at least one event type' })
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length, { message: `eventTypes must have at most ${WEBHOOK_EVENT_TYPES.length} entries` })
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true, message: `each event type must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` })
  eventTypes!: WebhookEventType[];
}

/** A webhook as listed (never its secret). */
export class WebhookDto implements Webhook {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true }) eventTypes!: WebhookEventType[];
  @ApiProperty() enabled!: boolean;
}

/** Reply of POST /me/integrations/webhooks: the only time the signing secret is shown. */
export class CreatedWebhookDto extends WebhookDto implements CreatedWebhook {
  @ApiProperty({ example: 'whsec_…', description: 'Standard Webhooks signing secret; shown once' }) secret!: string;
}

/** GET /me/integrations/webhooks. */
export class WebhookListDto implements WebhookList {
  @ApiProperty({ type: [WebhookDto] }) webhooks!: WebhookDto[];
}
