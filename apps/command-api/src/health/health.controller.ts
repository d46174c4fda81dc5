/**
 * GET /health (liveness: the process answers) and GET /ready (readiness = "can do its job": append commands, i.e. the
 * event store answers within 2 s). /ready answers 200 `{ status: 'ready', checks }` or 503 `{ status: 'not_ready',
 * checks }`. The NATS transport's state is reported in `checks.nats` but does not make the app unready: while NATS is
 * away, HTTP commands still append and the publisher catches up afterwards (its lag is the metric
 * `eventcast_publisher_lag_events`, not readiness). docs/contracts.md "Readiness".
 */
import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { EventStore } from '@eventcast/event-store';
import { NatsStatusTracker } from '../core/nats-status.js';
import { EVENT_STORE, NATS_STATUS } from '../core/tokens.js';

/** Readiness reply. */
export interface ReadyReply {
  status: 'ready' | 'not_ready';
  checks: { postgres: 'up' | 'down'; nats: string };
}

const TIMEOUT_MS = 2000;

/** Liveness and readiness probes. */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(NATS_STATUS) private readonly nats: NatsStatusTracker,
  ) {}

  /** Always `{ status: 'ok' }` while the process serves HTTP. */
  @Get('health')
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Checks the event store (head position within 2 s); reports NATS. */
  @Get('ready')
  @ApiOkResponse({ schema: { example: { status: 'ready', checks: { postgres: 'up', nats: 'connected' } } } })
  @ApiServiceUnavailableResponse({ schema: { example: { status: 'not_ready', checks: { postgres: 'down', nats: 'connected' } } } })
  async ready(@Res({ passthrough: true }) res: FastifyReply): Promise<ReadyReply> {
    const postgres = (await this.storeUp()) ? 'up' : 'down';
    const ok = postgres === 'up';
    res.status(ok ? 200 : 503);
    return { status: ok ? 'ready' : 'not_ready', checks: { postgres, nats: this.nats.status } };
  }

  private async storeUp(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.store.headPosition().then(() => true), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
