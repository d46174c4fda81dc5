/**
 * Nest injection tokens and the runtime facts the HTTP layer needs from the projector side.
 */

/** Token of {@link QueryApiRuntime}. */
export const QUERY_API_RUNTIME = Symbol('QUERY_API_RUNTIME');

/** What controllers and lifecycle hooks need beyond the database. */
export interface QueryApiRuntime {
  /** Base of playback URLs, '' to derive `http://<request host>:8000`. */
  hlsPublicUrl: string;
  /** True while the JetStream consumer is attached (readiness). */
  consumerAttached(): boolean;
  /** Stops the consumer after the in-flight message (called before the HTTP server closes). */
  stopConsumer(): Promise<void>;
  /** Closes NATS, the event store (when owned) and the database pool, in that order. */
  closeResources(): Promise<void>;
}
