/**
 * The channels' integrations aggregates (`integrations-<channelId>`) behind the same cache + group-commit loop as the
 * chat rooms (core/aggregate-service.ts). `load` always reads the events appended after the cached revision, so a
 * token revoked a moment ago (by any process) is seen as revoked by the very next request.
 */
import { Inject, Injectable } from '@nestjs/common';
import { streams, type EventMetadata } from '@eventcast/events';
import { integrationsDecider, type IntegrationsCommand, type IntegrationsEvent, type IntegrationsState } from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import { AggregateService, type CommandOutcome } from '../core/aggregate-service.js';
import { EVENT_STORE } from '../core/tokens.js';

/** Channels whose integrations stay cached (LRU). */
export const INTEGRATIONS_CACHE_CAPACITY = 1000;

/** Cached integrations aggregates. One instance per process. */
@Injectable()
export class IntegrationsAggregates {
  private readonly aggregates: AggregateService<IntegrationsCommand, IntegrationsEvent, IntegrationsState>;

  constructor(@Inject(EVENT_STORE) store: EventStore) {
    this.aggregates = new AggregateService(store, integrationsDecider, streams.integrations, { cache: { capacity: INTEGRATIONS_CACHE_CAPACITY } });
  }

  /** The current integrations of `channelId` (cache caught up with the store). @throws store/validation errors. */
  async load(channelId: string): Promise<IntegrationsState> {
    return (await this.aggregates.load(channelId)).state;
  }

  /**
   * Decides `command` on the channel's current state and appends its events.
   * @throws {DomainError} the decider's refusals (see `integrationsDecider`).
   */
  handle(channelId: string, command: IntegrationsCommand, metadata: EventMetadata): Promise<CommandOutcome<IntegrationsEvent, IntegrationsState>> {
    return this.aggregates.handle(channelId, command, metadata);
  }
}
