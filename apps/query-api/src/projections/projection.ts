/**
 * The projection contract: a named read-model writer that turns catalog events into row changes.
 * Projections never read the event store or NATS and never manage transactions or checkpoints: the
 * {@link ProjectionRunner} calls `apply` inside the transaction that also moves the checkpoint.
 */
import type { Transaction } from 'kysely';
import type { EventType, RecordedDomainEvent } from '@eventcast/events';
import type { DB } from '../database/schema.js';

/** A read-model projection. */
export interface Projection {
  /** Checkpoint name (row key of `readmodels.projection_checkpoints`); never rename a live projection. */
  readonly name: string;
  /**
   * The `readmodels` tables this projection writes (unqualified names, e.g. `['chat_messages']`). A blue/green
   * rebuild (src/rebuild) builds and swaps exactly these tables; projections that share a table are rebuilt together.
   * Every statement must name its tables through Kysely (`trx.insertInto('x')`, `sql.table('readmodels.x')`), never
   * as literal SQL text, so that a rebuild can redirect them to its build schema.
   */
  readonly tables: readonly string[];
  /**
   * Tables of OTHER projections this one reads while applying (e.g. the moderation log reads `chat_messages`).
   * A rebuild rebuilds the writers of these tables in the same build, so it never reads a live table at another
   * position. Default: none.
   */
  readonly reads?: readonly string[];
  /** Event types `apply` cares about; other events only move the checkpoint. */
  readonly handles: readonly EventType[];
  /**
   * Applies one validated event (current schema version) inside `trx`. Must be deterministic and depend only
   * on the event and the rows already written, so that a rebuild yields the same rows as the live run.
   * @throws to roll back the whole transaction (the event and the checkpoint stay unapplied).
   */
  apply(trx: Transaction<DB>, event: RecordedDomainEvent): Promise<void>;
  /**
   * Optional batch form of `apply`: the events of one runner transaction that this projection handles, in global
   * order (validated, each above this projection's checkpoint). Lets a projection fold many events into few
   * statements (e.g. one multi-row insert). Must leave the same rows as calling `apply` for each event in order.
   * When absent, the runner calls `apply` per event.
   * @throws to roll back the whole transaction.
   */
  applyBatch?(trx: Transaction<DB>, events: readonly RecordedDomainEvent[]): Promise<void>;
}
