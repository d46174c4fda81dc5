/**
 * The webhook delivery log, for the channel owner (Bearer JWT): `GET /me/integrations/webhooks/:id/deliveries`
 * → `{ deliveries: WebhookDeliveryView[], nextBefore }`, newest event first, paged by global position. Each delivery
 * lists every attempt with its status code, latency and error, so the backoff between attempts is visible.
 */
import { Controller, Get, Inject, NotFoundException, Param, ParseUUIDPipe, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiQuery, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Kysely } from 'kysely';
import { BearerAuthGuard, type AuthRequest } from '../auth/bearer-auth.guard.js';
import { ErrorDto } from '../common/error.dto.js';
import { parsePage } from '../common/params.js';
import { READ_MODEL_DB, type ReadModelDb } from '@eventcast/read-models';
import type { DeliveryDB, DeliveryStatus } from './delivery-schema.js';
import { deliveryLogOf } from './delivery-log.js';

/** One HTTP attempt. */
export class DeliveryAttemptView {
  @ApiProperty({ description: '1-based' }) attempt!: number;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiPropertyOptional({ nullable: true, type: Number, description: 'null: no response (network error, timeout)' }) statusCode!: number | null;
  @ApiProperty({ description: 'milliseconds until the response headers or the error' }) latencyMs!: number;
  @ApiPropertyOptional({ nullable: true, type: String }) error!: string | null;
  @ApiProperty() succeeded!: boolean;
}

/** One event delivered (or being delivered) to one webhook. */
export class WebhookDeliveryView {
  @ApiProperty({ format: 'uuid', description: 'also the `webhook-id` header' }) id!: string;
  @ApiProperty({ format: 'uuid' }) eventId!: string;
  @ApiProperty() eventType!: string;
  @ApiProperty({ example: '42' }) globalPosition!: string;
  @ApiProperty({ enum: ['pending', 'succeeded', 'failed', 'cancelled'] }) status!: DeliveryStatus;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String }) completedAt!: string | null;
  @ApiProperty({ type: [DeliveryAttemptView] }) attempts!: DeliveryAttemptView[];
}

/** A page of deliveries. */
export class WebhookDeliveriesPageDto {
  @ApiProperty({ type: [WebhookDeliveryView] }) deliveries!: WebhookDeliveryView[];
  @ApiPropertyOptional({ nullable: true, type: String, description: 'pass as `before` for the next page' }) nextBefore!: string | null;
}

/** Delivery log routes. */
@ApiTags('integrations')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('me/integrations/webhooks')
@ApiUnauthorizedResponse({ type: ErrorDto, description: 'missing or invalid JWT' })
export class WebhookDeliveriesController {
  private readonly log: Kysely<DeliveryDB>;

  constructor(@Inject(READ_MODEL_DB) private readonly db: ReadModelDb) {
    this.log = deliveryLogOf(db);
  }

  /**
   * Deliveries of one of the caller's webhooks (deleted webhooks keep their log).
   * @throws {NotFoundException} the webhook is unknown or not the caller's. @throws {BadRequestException} paging.
   */
  @Get(':id/deliveries')
  @ApiOkResponse({ type: WebhookDeliveriesPageDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  @ApiQuery({ name: 'before', required: false, description: 'only deliveries of events with a lower globalPosition' })
  @ApiQuery({ name: 'limit', required: false, description: '1–100, default 50' })
  async deliveries(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() req: AuthRequest,
    @Query('before') before?: string,
    @Query('limit') limit?: string,
  ): Promise<WebhookDeliveriesPageDto> {
    const page = parsePage(before, limit);
    const owner = req.account!.id;
    const hook = await this.db.selectFrom('webhooks').select('channel_id').where('id', '=', id).executeTakeFirst();
    let query = this.log.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', id).where('channel_id', '=', owner);
    if (page.before !== null) query = query.where('global_position', '<', page.before.toString());
    const rows = await query.orderBy('global_position', 'desc').limit(page.limit).execute();
    if (hook?.channel_id !== owner && rows.length === 0) {
      const any = await this.log.selectFrom('webhook_deliveries').select('id').where('webhook_id', '=', id).where('channel_id', '=', owner).limit(1).executeTakeFirst();
      if (!any) throw new NotFoundException('no such webhook');
    }
    const attempts = rows.length === 0
      ? []
      : await this.log.selectFrom('webhook_delivery_attempts').selectAll().where('delivery_id', 'in', rows.map((r) => r.id)).orderBy('delivery_id').orderBy('attempt').execute();
    const byDelivery = new Map<string, DeliveryAttemptView[]>();
    for (const a of attempts) {
      const list = byDelivery.get(a.delivery_id) ?? [];
      list.push({ attempt: a.attempt, startedAt: a.started_at.toISOString(), statusCode: a.status_code, latencyMs: a.latency_ms, error: a.error, succeeded: a.succeeded });
      byDelivery.set(a.delivery_id, list);
    }
    return {
      deliveries: rows.map((r) => ({
        id: r.id,
        eventId: r.event_id,
        eventType: r.event_type,
        globalPosition: String(r.global_position),
        status: r.status,
        createdAt: r.created_at.toISOString(),
        completedAt: r.completed_at?.toISOString() ?? null,
        attempts: byDelivery.get(r.id) ?? [],
      })),
      nextBefore: rows.length === page.limit ? String(rows[rows.length - 1]!.global_position) : null,
    };
  }
}
