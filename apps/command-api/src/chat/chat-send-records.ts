/**
 * Group commit of `chat.send`'s idempotency records. Every send with a nonce claims a record before it is decided and
 * completes it after (chat-nats.controller.ts): two autocommit statements, so two PostgreSQL commits (WAL flushes)
 * per message, not shared with anyone — measured as the limit of the WebSocket chat path (bench/results/command-path.md:
 * command-api at 0.2 of a core while PostgreSQL's backends waited on `WALWrite`/`WALSync`). Here claims that arrive
 * while a claim statement is in flight wait and are claimed together by the next one (`IdempotencyStore.beginMany`),
 * and the same for completions (`completeMany`): one commit per group. Each caller still gets exactly its own claim.
 */
import { Injectable } from '@nestjs/common';
import { IdempotencyStore, type IdempotencyClaim, type IdempotencyRecordRef } from '../idempotency/idempotency-store.js';

/** Most items written by one statement. */
const MAX_GROUP = 500;

/**
 * Runs `flush` on everything queued while the previous flush was in flight (at most one flush at a time, up to
 * `max` items each). `flush` returns one result per item, in order; when it throws, every item of its group fails.
 */
export class SingleFlightBatcher<I, O> {
  private queue: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  private running = false;

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly max = MAX_GROUP,
  ) {}

  /** Queues `item`; resolves with its result once its group was written. */
  run(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, this.max);
        try {
          const out = await this.flush(group.map((g) => g.item));
          group.forEach((g, i) => g.resolve(out[i] as O));
        } catch (err) {
          for (const g of group) g.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

/** A claim, or `expired`: the request's deadline passed while it waited for its group (nothing was written). */
export type ChatSendClaim<R> = IdempotencyClaim<R> | { state: 'expired' };

/** A claim request; `expired` true once its sender no longer waits for it (./send-deadlines.ts). */
interface ClaimItem {
  scope: string;
  key: string;
  fingerprint: string;
  expired?: () => boolean;
}

/** A group write that returns nothing, as a {@link SingleFlightBatcher} flush (one `undefined` per item). */
function forEach<I>(write: (items: I[]) => Promise<void>): (items: I[]) => Promise<undefined[]> {
  return async (items) => {
    await write(items);
    return items.map(() => undefined);
  };
}

/** The chat's batched view of the idempotency records. */
@Injectable()
export class ChatSendRecords {
  private readonly claims: SingleFlightBatcher<ClaimItem, ChatSendClaim<unknown>>;
  private readonly completions: SingleFlightBatcher<{ record: IdempotencyRecordRef; response: unknown }, undefined>;
  private readonly releases: SingleFlightBatcher<IdempotencyRecordRef, undefined>;

  constructor(readonly records: IdempotencyStore) {
    this.claims = new SingleFlightBatcher(async (items) => {
      // Under overload claims queue here: the ones whose sender gave up meanwhile are not written at all (in order, so
      // that a sender's later message is shed with the earlier one: see send-deadlines.ts).
      const dead = items.map((i) => i.expired?.() === true);
      const live = items.filter((_, n) => !dead[n]).map(({ scope, key, fingerprint }) => ({ scope, key, fingerprint }));
      const claimed = live.length > 0 ? await records.beginMany(live) : [];
      let next = 0;
      return items.map((_, n): ChatSendClaim<unknown> => (dead[n] ? { state: 'expired' } : (claimed[next++] as IdempotencyClaim<unknown>)));
    });
    this.completions = new SingleFlightBatcher(forEach((items) => records.completeMany(items)));
    this.releases = new SingleFlightBatcher(forEach((items) => records.releaseMany(items)));
  }

  /**
   * As `IdempotencyStore.awaitOutcome`: claims the key with the group forming now; only when the first attempt is
   * still in flight does it wait (polling, alone) up to `timeoutMs` — never past `deadline.at` (epoch ms) — for its
   * outcome. With `deadline`, a claim whose `deadline.expired()` is true when its group is written is not written and
   * comes back `expired`.
   * @throws the driver's error when PostgreSQL is unreachable.
   */
  async claim<R>(scope: string, key: string, fingerprint: string, timeoutMs: number, deadline?: { at: number; expired: () => boolean }): Promise<ChatSendClaim<R>> {
    const first = (await this.claims.run(deadline === undefined ? { scope, key, fingerprint } : { scope, key, fingerprint, expired: deadline.expired })) as ChatSendClaim<R>;
    if (first.state !== 'in_flight') return first;
    // Waiting for the first attempt never outlasts the sender's own deadline (it would hold the whole batch's reply).
    const wait = deadline === undefined ? timeoutMs : Math.min(timeoutMs, deadline.at - Date.now());
    return wait > 0 ? this.records.awaitOutcome<R>(scope, key, fingerprint, wait) : first;
  }

  /** As `IdempotencyStore.release`, with the group forming now (under overload, shed requests release in bulk). */
  release(record: IdempotencyRecordRef): Promise<void> {
    return this.releases.run(record);
  }

  /** As `IdempotencyStore.complete`, with the group forming now. */
  complete(record: IdempotencyRecordRef, response: unknown): Promise<void> {
    return this.completions.run({ record, response });
  }
}
