/**
 * In-order acknowledgement window: publishes may be in flight together, but the acked position only moves past an
 * event once it and every earlier event were acknowledged.
 */

interface Entry {
  position: bigint;
  state: 'pending' | 'ok' | 'failed';
}

/** Tracks in-flight publishes in send order. */
export class AckWindow {
  private readonly entries: Entry[] = [];
  private readonly settled = new Set<Promise<unknown>>();
  private waiters: (() => void)[] = [];
  /** The first failure seen, if any; once set the window accepts no more entries' acks as progress. */
  failure: unknown;

  /**
   * @param acked position up to which everything is acknowledged (moves forward only)
   * @param onFailure called once, at the first failed publish
   */
  constructor(
    public acked: bigint,
    private readonly onFailure: (err: unknown) => void,
  ) {}

  /** Number of publishes not yet settled. */
  get size(): number {
    return this.settled.size;
  }

  /** Adds a publish of the event at `position`, sent after all earlier ones. */
  push(position: bigint, publish: Promise<unknown>): void {
    const entry: Entry = { position, state: 'pending' };
    this.entries.push(entry);
    const tracked: Promise<unknown> = publish.then(
      () => {
        entry.state = 'ok';
      },
      (err: unknown) => {
        entry.state = 'failed';
        if (this.failure === undefined) {
          this.failure = err ?? new Error('publish failed');
          this.onFailure(this.failure);
        }
      },
    );
    this.settled.add(tracked);
    void tracked.finally(() => {
      this.settled.delete(tracked);
      this.advance();
      const w = this.waiters;
      this.waiters = [];
      for (const wake of w) wake();
    });
  }

  /** Resolves when fewer than `max` publishes are in flight (or at once). */
  async waitBelow(max: number): Promise<void> {
    while (this.settled.size >= max) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** Resolves when every publish pushed so far has settled. */
  async drain(): Promise<void> {
    await this.waitBelow(1);
  }

  private advance(): void {
    while (this.entries[0]?.state === 'ok') this.acked = this.entries.shift()!.position;
  }
}
