/**
 * Optional coalescing of topic publishes (`REALTIME_FANOUT_BATCH_MS`). With a window of W ms, the first frame that
 * arrives starts a timer; every frame published before it fires is queued, and the flush publishes them all in one
 * synchronous run, in arrival order. uWS's topic tree sends everything a subscriber got in one event-loop iteration
 * as one corked write, so a viewer receives the frames of a window in one TCP send instead of one send each: the
 * kernel's per-send cost, most of the edge's CPU at thousands of viewers, is paid once per window per viewer.
 * The price is up to W ms of added latency; W = 0 (the default) publishes at once.
 */

/** Sends one frame to one uWS topic. */
export type TopicPublish = (topic: string, frame: string) => void;

/** Queues publishes for at most `windowMs`, then publishes them in order. */
export class PublishBatcher {
  private queue: Array<[string, string]> = [];
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param target the real publish (uWS `app.publish`).
   * @param windowMs coalescing window in ms; 0 publishes synchronously.
   */
  constructor(
    private readonly target: TopicPublish,
    private readonly windowMs: number,
  ) {}

  /** Publishes `frame` to `topic` now (window 0) or at the end of the current window. Order is kept across topics. */
  readonly publish = (topic: string, frame: string): void => {
    if (this.windowMs <= 0) {
      this.target(topic, frame);
      return;
    }
    this.queue.push([topic, frame]);
    this.timer ??= setTimeout(() => this.flush(), this.windowMs);
  };

  /** Publishes everything queued now (also on shutdown). Publish errors propagate after the rest is published. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    let failure: Error | undefined;
    for (const [topic, frame] of batch) {
      try {
        this.target(topic, frame);
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
      }
    }
    if (failure) throw failure;
  }

  /** Frames waiting for the current window. */
  get pending(): number {
    return this.queue.length;
  }
}
