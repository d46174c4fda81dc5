/**
 * Nest injection tokens and the runtime facts the HTTP layer needs from the projector side.
 */

import type { LagThresholds, ProjectionLag } from '../observability/projection-lag.js';
import type { ProjectionStatusReport, ProjectorRole } from '@eventcast/read-models';
import type { ReadPosition } from './read-position.js';
import type { StoreHead } from './store-head.js';
import type { RecordingsConfig } from '../config.js';

/** Token of {@link QueryApiRuntime}. */
export const QUERY_API_RUNTIME = Symbol('QUERY_API_RUNTIME');

/** What controllers and lifecycle hooks need beyond the database. */
export interface QueryApiRuntime {
  /** Base of playback URLs, '' to derive `http://<request host>:8000`. */
  hlsPublicUrl: string;
  /**
   * True while the projector can keep the read models current (readiness): the JetStream consumer is attached on a
   * connected NATS, or NATS is away and catch-ups from the event store succeed.
   */
  consumerAttached(): boolean;
  /** This process's projector role (`leader` applies events; `follower` waits for the lock), for `/ready` and metrics. */
  projectorRole(): ProjectorRole;
  /** Stops the consumer after the in-flight message (called before the HTTP server closes). */
  stopConsumer(): Promise<void>;
  /** Closes NATS, the event store (when owned) and the database pool, in that order. */
  closeResources(): Promise<void>;
  /**
   * Each projection's lag behind the event store head (set once the projector runs; null when the store cannot tell
   * its head). `/ready` fails while one is over {@link QueryApiRuntime.lagThresholds}.
   */
  projectionLag?: () => Promise<ProjectionLag[] | null>;
  /** Readiness limits on the projection lag (`READINESS_MAX_LAG_EVENTS`, `READINESS_MAX_LAG_SECONDS`). */
  lagThresholds?: LagThresholds;
  /**
   * Each projection's checkpoint, the store head, lag and state (`GET /admin/projections`); set once the projector
   * runs, absent when the store cannot tell its head.
   */
  projectionStatus?: () => Promise<ProjectionStatusReport[]>;
  /**
   * The read models' position and the bounded wait of read-your-writes (`?minPosition=`, read-your-writes.interceptor.ts).
   * Absent: no waiting and no `Eventcast-Position` header.
   */
  readPosition?: ReadPosition;
  /**
   * The event store's head for read-your-writes: a `minPosition` beyond it is refused at once (400
   * `invalid_min_position`). Set once the event store is open; absent when the store cannot tell its head.
   */
  storeHead?: StoreHead;
  /** Base URLs of the ingest nodes whose `/admin/health` `GET /admin/broadcasts` joins in (`INGEST_URL`). */
  ingestUrls?: readonly string[];
  /** Media storage of recordings and clips and the retention settings (`GET /admin/storage`). */
  recordings?: RecordingsConfig;
}
