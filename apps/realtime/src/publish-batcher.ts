/**
 * Optional coalescing of topic publishes (`REALTIME_FANOUT_BATCH_MS`). With a window of W ms, the first frame that
 * arrives starts a timer; every frame published before it fires is queued, and the flush publishes them all in one
 * synchronous run, in arrival order. uWS's topic tree sends everything a subscriber got in one event-loop iteration
 * as one corked write, so a viewer receives the frames of a window in one TCP send instead of one send each: the
 * kernel's per-send cost, most of the edge's CPU at thousands of viewers, is paid once per window per viewer.
 * The price is up to W ms of added latency, so only big audiences pay it: a topic is batched while it has at least
 * `minSubscribers` subscribers on this edge (`REALTIME_FANOUT_BATCH_MIN_VIEWERS`); smaller topics are published at
 * once, except while a window is open, when every frame joins the queue so that frames never overtake each other.
 * Measured at 5,000 viewers × 50 msgs/s (bench/results/chat-fanout-coalesced-*.md): a 20 ms window cut the edge's
 * CPU by 18 % and the p50 end-to-end latency from 128 to 82 ms on this 2-core machine; W = 0 turns batching off.
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
   * @param subscribers subscriber count of a topic on this edge (uWS `app.numSubscribers`).
   * @param minSubscribers topics with fewer subscribers are not batched (0: every topic is).
   * @param onError told of a publish error of a timer-driven flush (no caller to throw to); the rest is still sent.
   */
  constructor(
    private readonly target: TopicPublish,
    private readonly windowMs: number,
    private readonly subscribers: (topic: string) => number = () => Number.POSITIVE_INFINITY,
    private readonly minSubscribers = 0,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  /**
   * Publishes `frame` to `topic` now, or at the end of the current window when a window is open or `topic` is big
   * enough to open one. Frames leave in the order they were published, across topics.
   */
  readonly publish = (topic: string, frame: string): void => {
    if (this.queue.length === 0 && (this.windowMs <= 0 || this.subscribers(topic) < this.minSubscribers)) {
      this.target(topic, frame);
      return;
    }
    this.queue.push([topic, frame]);
    this.timer ??= setTimeout(() => {
      try {
        this.flush();
      } catch (err) {
        this.onError(err as Error);
      }
    }, this.windowMs);
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
