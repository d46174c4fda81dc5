/**
 * Keeps the read models moving while NATS is away: JetStream is only the fast path to the projections, the event
 * store is the source of truth (ARCHITECTURE.md), so while the NATS connection is down this follower catches the
 * projections up from the store every `intervalMs` (the same {@link StoreCatchUp} as at start). The projection runner
 * applies each event once under its checkpoint row lock, so this may overlap the JetStream worker and the redelivered
 * backlog after NATS returns is acknowledged as duplicates.
 *
 * Readiness (docs/contracts.md "Readiness"): query-api can do its job while its projector is consuming — the
 * JetStream consumer attached on a connected NATS — or, NATS being away, while this follower's last catch-up
 * succeeded within `freshMs`.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@eventcast/platform';
import type { StoreCatchUp } from '@eventcast/read-models';

/** Tuning of {@link StoreFollower}. */
export interface StoreFollowerOptions {
  /** Pause between two catch-ups while NATS is down, in ms. Default 500. */
  intervalMs?: number;
  /** A catch-up counts as "following" for this long, in ms. Default 3000. */
  freshMs?: number;
}

/** Follows the event store while NATS is disconnected. */
export class StoreFollower {
  private natsUp = true;
  private stopped = false;
  private lastOk = 0;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly intervalMs: number;
  private readonly freshMs: number;

  constructor(
    private readonly catchUp: Pick<StoreCatchUp, 'run'>,
    private readonly logger: Logger,
    options: StoreFollowerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 500;
    this.freshMs = options.freshMs ?? 3000;
  }

  /** True while NATS is connected (as last reported by the connection's status). */
  get natsConnected(): boolean {
    return this.natsUp;
  }

  /** True when a catch-up from the store succeeded within `freshMs` (only happens while NATS is down). */
  get following(): boolean {
    return Date.now() - this.lastOk <= this.freshMs;
  }

  /** Watches `nc`'s status in the background: follows the store from each `disconnect` until the `reconnect`. */
  watch(nc: NatsConnection): void {
    void (async () => {
      try {
        for await (const s of nc.status()) {
          if (this.stopped) return;
          if (s.type === 'disconnect') {
            this.natsUp = false;
            this.logger.warn('NATS disconnected: projecting from the event store until it is back');
            this.loop ??= this.follow();
          } else if (s.type === 'reconnect') {
            this.natsUp = true;
            this.wake?.();
          }
        }
      } catch {
        // the status iterator ends with the connection
      }
    })();
  }

  /** Stops following (waits for a catch-up in progress). Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async follow(): Promise<void> {
    try {
      while (!this.natsUp && !this.stopped) {
        try {
          await this.catchUp.run();
          this.lastOk = Date.now();
        } catch (err) {
          this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'catch-up from the event store failed; retrying');
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.intervalMs);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = undefined;
      }
    } finally {
      this.loop = undefined;
      this.lastOk = 0;
    }
  }
}
