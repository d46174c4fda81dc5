/**
 * Envelopes: how an event travels between the store, NATS and the apps.
 *
 * A {@link NewEvent} is what a decider produces and an app appends; a {@link RecordedEvent} is what the
 * event store gives back once it is durable, with its stream revision and global position.
 */

/** Metadata carried next to every event; never holds secrets. */
export interface EventMetadata {
  /** Follows one user action through command, events, projections and the edge. */
  correlationId?: string;
  /** Id of the command or event that caused this one. */
  causationId?: string;
  /** Account id of whoever caused the event, when a person did. */
  actorId?: string;
  [key: string]: unknown;
}

/** An event about to be appended: type, schema version and payload. */
export interface NewEvent<TType extends string = string, TData = unknown> {
  /** Event id (UUID v4); generated on append when absent. JetStream de-duplicates on it. */
  id?: string;
  type: TType;
  /** Schema version of `data`; defaults to the catalog's current version. */
  version?: number;
  data: TData;
  metadata?: EventMetadata;
}

/** A durable event as read back from the store. */
export interface RecordedEvent<TType extends string = string, TData = unknown> {
  id: string;
  type: TType;
  version: number;
  /** Event stream (aggregate instance), e.g. `account-3f…`. */
  streamName: string;
  /** 0-based position of the event inside its stream. */
  revision: bigint;
  /** 1-based, gap-free position in the global log (`$all`) of the PostgreSQL store. */
  globalPosition: bigint;
  occurredAt: Date;
  data: TData;
  metadata: EventMetadata;
}

/** JSON form of a {@link RecordedEvent}: bigints as decimal strings, the date as ISO-8601. */
export interface WireEvent {
  id: string;
  type: string;
  version: number;
  streamName: string;
  revision: string;
  globalPosition: string;
  occurredAt: string;
  data: unknown;
  metadata: EventMetadata;
}

/** Converts a recorded event to its JSON wire form (NATS bodies, WebSocket frames, replay output). */
export function toWire(event: RecordedEvent): WireEvent {
  return {
    id: event.id,
    type: event.type,
    version: event.version,
    streamName: event.streamName,
    revision: event.revision.toString(),
    globalPosition: event.globalPosition.toString(),
    occurredAt: event.occurredAt.toISOString(),
    data: event.data,
    metadata: event.metadata,
  };
}

/**
 * Parses the JSON wire form back into a recorded event. Does not validate `data`: pass the result
 * through `validateRecorded` of the catalog for that.
 * @throws {InvalidEventError} when the envelope fields are missing or of the wrong kind.
 */
export function fromWire(input: unknown): RecordedEvent {
  if (typeof input !== 'object' || input === null) throw new InvalidEventError('event envelope must be an object');
  const o = input as Record<string, unknown>;
  const str = (k: string): string => {
    const v = o[k];
    if (typeof v !== 'string' || v.length === 0) throw new InvalidEventError(`event envelope field "${k}" must be a non-empty string`);
    return v;
  };
  const version = o['version'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new InvalidEventError('event envelope field "version" must be a positive integer');
  }
  const occurredAt = new Date(str('occurredAt'));
  if (Number.isNaN(occurredAt.getTime())) throw new InvalidEventError('event envelope field "occurredAt" is not a date');
  let revision: bigint;
  let globalPosition: bigint;
  try {
    revision = BigInt(str('revision'));
    globalPosition = BigInt(str('globalPosition'));
  } catch {
    throw new InvalidEventError('event envelope fields "revision" and "globalPosition" must be integers');
  }
  const metadata = o['metadata'];
  return {
    id: str('id'),
    type: str('type'),
    version,
    streamName: str('streamName'),
    revision,
    globalPosition,
    occurredAt,
    data: o['data'],
    metadata: typeof metadata === 'object' && metadata !== null ? (metadata as EventMetadata) : {},
  };
}

/** An event (or envelope) refused at a boundary: unknown type, unknown version or invalid payload. */
export class InvalidEventError extends Error {
  constructor(message: string, readonly issues: readonly string[] = []) {
    super(message);
    this.name = 'InvalidEventError';
  }
}
