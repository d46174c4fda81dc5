/**
 * A {@link LiveMediaSink} that records what the packager hands it, for assertions in tests. The seam is our own
 * interface (./live/media-sink.ts), not a service, so recording it is not mocking a dependency.
 */
import type { ChannelMediaSink, LiveMediaSink, MediaPart, RenditionDescriptor, RenditionSink } from '../live/media-sink.js';

/** One call on a rendition, in arrival order. */
export type RecordedEvent =
  | { kind: 'init'; initSegment: Buffer; descriptor: RenditionDescriptor; at: number }
  | { kind: 'part'; part: MediaPart; at: number };

/** What one rendition received. */
export class RecordingRenditionSink implements RenditionSink {
  readonly events: RecordedEvent[] = [];

  init(initSegment: Buffer, descriptor: RenditionDescriptor): void {
    this.events.push({ kind: 'init', initSegment, descriptor, at: Date.now() });
  }

  part(part: MediaPart): void {
    this.events.push({ kind: 'part', part, at: Date.now() });
  }

  /** The parts received, in order. */
  get parts(): MediaPart[] {
    return this.events.flatMap((e) => (e.kind === 'part' ? [e.part] : []));
  }

  /** The init calls received, in order. */
  get inits(): { initSegment: Buffer; descriptor: RenditionDescriptor; at: number }[] {
    return this.events.flatMap((e) => (e.kind === 'init' ? [e] : []));
  }
}

/** What one channel received. */
export class RecordingChannelSink implements ChannelMediaSink {
  readonly renditions = new Map<string, RecordingRenditionSink>();
  ended = 0;

  rendition(name: string): RecordingRenditionSink {
    let r = this.renditions.get(name);
    if (!r) {
      r = new RecordingRenditionSink();
      this.renditions.set(name, r);
    }
    return r;
  }

  end(): void {
    this.ended += 1;
  }
}

/** Records every channel opened; `closed` lists the `close` calls. */
export class RecordingMediaSink implements LiveMediaSink {
  readonly channels = new Map<string, RecordingChannelSink>();
  readonly closed: { username: string; afterMs: number }[] = [];

  open(username: string): RecordingChannelSink {
    let c = this.channels.get(username);
    if (!c) {
      c = new RecordingChannelSink();
      this.channels.set(username, c);
    }
    return c;
  }

  close(username: string, afterMs: number): void {
    this.closed.push({ username, afterMs });
  }
}
