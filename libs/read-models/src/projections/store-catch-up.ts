/**
 * Catch-up from the event store, the source of truth: reads the global log after the projections' checkpoint
 * and applies it in batches (one transaction per batch, checkpoint included). Used at start (a fresh database
 * rebuilds from the store alone) and when JetStream delivers an event past a gap.
 */
import type { Logger } from '@eventcast/platform';
import { logProjected } from './projected-log.js';
import type { EventLogReader } from './event-log.js';
import type { ProjectionRunner } from './projection-runner.js';

/** Batched catch-up of a {@link ProjectionRunner} from an {@link EventLogReader}. */
export class StoreCatchUp {
  /**
   * @param runner projections to feed.
   * @param store global-log reader (the event store).
   * @param logger JSON logger.
   * @param batchSize events per read and per transaction (default 500).
   */
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly store: EventLogReader,
    private readonly logger: Logger,
    private readonly batchSize = 500,
  ) {}

  /**
   * Applies stored events after the current checkpoint until the end of the log, or until the checkpoint
   * reaches `until` (inclusive) when given; events after `until` are not read.
   * @returns the lowest checkpoint afterwards.
   * @throws store or database errors, or InvalidEventError for a handled event the catalog refuses; batches
   *   committed before the error stay committed.
   */
  async run(until?: bigint): Promise<bigint> {
    let position = await this.runner.position();
    let total = 0;
    while (until === undefined || position < until) {
      // Never past `until`: an event after it (one the catalog refuses, say) must not fail the catch-up up to it.
      const limit = until === undefined ? this.batchSize : Math.min(this.batchSize, Number(until - position));
      const events = await this.store.readAll({ after: position, limit });
      if (events.length === 0) break;
      const result = await this.runner.apply(events);
      logProjected(this.logger, events, 'catch-up');
      total += result.applied;
      if (result.position <= position) break;
      position = result.position;
    }
    if (total > 0) this.logger.info({ position: position.toString(), applied: total }, 'caught up from the event store');
    return position;
  }
}
