/**
 * GET /health (liveness: the process answers) and GET /ready (readiness: PostgreSQL answers within 2 s and the NATS
 * transport is connected). /ready answers 200 `{ status: 'ready', checks }` or 503 `{ status: 'not_ready', checks }`.
 */
import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
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

  /** Checks PostgreSQL (store head position) and NATS. */
  @Get('ready')
  @ApiOkResponse({ schema: { example: { status: 'ready', checks: { postgres: 'up', nats: 'connected' } } } })
  @ApiServiceUnavailableResponse({ schema: { example: { status: 'not_ready', checks: { postgres: 'down', nats: 'reconnecting' } } } })
  async ready(@Res({ passthrough: true }) res: Response): Promise<ReadyReply> {
    const postgres = (await this.storeUp()) ? 'up' : 'down';
    const ok = postgres === 'up' && this.nats.connected;
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
