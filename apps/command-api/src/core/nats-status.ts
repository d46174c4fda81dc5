/** Tracks the NATS transport's connection status for the readiness probe. */
import type { Observable } from 'rxjs';

/** Latest status of the NATS microservice: `connected`, `disconnected`, `reconnecting`, or `starting` before the first. */
export class NatsStatusTracker {
  private current = 'starting';

  /** Follows a microservice's status stream (`INestMicroservice.status`). @returns a function that stops following. */
  follow(status: Observable<string>): () => void {
    const sub = status.subscribe((s) => {
      this.current = s;
    });
    return () => sub.unsubscribe();
  }

  /** Marks the transport closed (on shutdown). */
  closed(): void {
    this.current = 'closed';
  }

  /** The latest status. */
  get status(): string {
    return this.current;
  }

  /** True when connected. */
  get connected(): boolean {
    return this.current === 'connected';
  }
}
