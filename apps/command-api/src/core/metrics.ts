/**
 * command-api's Prometheus metrics (README, "Observability"), on the process registry of @eventcast/platform:
 * - `eventcast_events_appended_total{type}`: events durably appended by this process (counted after the append
 *   committed, whatever the call site: HTTP, NATS request/reply, sagas);
 * - `eventcast_events_published_total{type,duplicate}`: events whose JetStream PubAck arrived (the publisher);
 * - `eventcast_publisher_lag_events`: store head − last acked position (read at scrape time; absent when this
 *   process runs no publisher);
 * - HTTP request counts and latencies come from `httpMetricsMiddleware('command-api')`.
 */
import type { RecordedEvent } from '@eventcast/events';
import type { EventStore } from '@eventcast/event-store';
import { counter, gauge } from '@eventcast/platform';

const appended = counter({ name: 'eventcast_events_appended_total', help: 'Events appended to the event store by this process, by event type.', labelNames: ['type'] });
const published = counter({
  name: 'eventcast_events_published_total',
  help: 'Events published to NATS JetStream and acknowledged (PubAck), by event type; duplicate="true" when JetStream already had it.',
  labelNames: ['type', 'duplicate'],
});

/** Something that reports the publisher's lag (the `EventPublisher`). */
export interface LagSource {
  lag(): Promise<bigint>;
}

const lagSources = new Set<LagSource>();
gauge({
  name: 'eventcast_publisher_lag_events',
  help: 'Events appended but not yet acknowledged by JetStream (store head minus acked position).',
  async collect() {
    this.reset();
    let total = 0n;
    let any = false;
    for (const s of lagSources) {
      try {
        total += await s.lag();
        any = true;
      } catch {
        // store unreachable: leave the series out rather than report a made-up number
      }
    }
    if (any) this.set(Number(total));
  },
});

/**
 * Wraps `store` so every successful `append` adds its events to `eventcast_events_appended_total{type}`.
 * Everything else is passed through unchanged (a Proxy, so methods added to the port later keep working).
 */
export function countAppendedEvents(store: EventStore): EventStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'append') {
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      }
      const append: EventStore['append'] = async (stream, events, expected) => {
        const result = await target.append(stream, events, expected);
        for (const e of events) appended.inc({ type: e.type });
        return result;
      };
      return append;
    },
  });
}

/** The publisher's `onPublished` hook: counts the acknowledged event. */
export function countPublished(event: RecordedEvent, duplicate: boolean): void {
  published.inc({ type: event.type, duplicate: String(duplicate) });
}

/**
 * Reports `source.lag()` as `eventcast_publisher_lag_events` until the returned function is called.
 * @returns unregister.
 */
export function reportPublisherLag(source: LagSource): () => void {
  lagSources.add(source);
  return () => lagSources.delete(source);
}

/* Recordings retention job (issue 11 item 6, recordings/retention.ts). */

/** `eventcast_recording_retention_runs_total{outcome}`: runs of the job (`done`, `failed`, `skipped` = another instance held the lock). */
export const retentionRuns = counter({
  name: 'eventcast_recording_retention_runs_total',
  help: 'Runs of the recordings retention job, by outcome (done, failed, skipped: another command-api held the lock).',
  labelNames: ['outcome'],
});
/** `eventcast_recording_deletions_total{kind,reason}`: VODs (`vod`), clips (`clip`) and leftover files (`files`) deleted. */
export const retentionDeletions = counter({
  name: 'eventcast_recording_deletions_total',
  help: 'Recordings and clips deleted by the retention job, by kind (vod, clip, files: files of an already deleted or not kept recording) and reason.',
  labelNames: ['kind', 'reason'],
});
/** `eventcast_recording_bytes_freed_total`: bytes the job freed in media storage. */
export const retentionBytesFreed = counter({ name: 'eventcast_recording_bytes_freed_total', help: 'Bytes freed in media storage by the recordings retention job.' });
/** `eventcast_recording_storage_bytes`: bytes used in media storage (recordings and clips) at the end of the last run. */
export const recordingStorageBytes = gauge({ name: 'eventcast_recording_storage_bytes', help: 'Bytes used in media storage by recordings and clips, measured at the end of the last retention run.' });
/** `eventcast_recording_retention_last_run_timestamp_seconds`: when the last run (done) ended, Unix seconds. */
export const retentionLastRun = gauge({ name: 'eventcast_recording_retention_last_run_timestamp_seconds', help: 'When the last completed recordings retention run ended (Unix time, seconds).' });
