/** Injection tokens of the infrastructure that {@link bootstrapCommandApi} creates and hands to the Nest module. */

/** The {@link EventStore} port (PostgreSQL adapter by default). */
export const EVENT_STORE = Symbol('EVENT_STORE');
/** The process configuration ({@link CommandApiConfig}). */
export const CONFIG = Symbol('CONFIG');
/** The pino root logger. */
export const LOGGER = Symbol('LOGGER');
/** The NATS readiness probe ({@link NatsStatusTracker}). */
export const NATS_STATUS = Symbol('NATS_STATUS');
