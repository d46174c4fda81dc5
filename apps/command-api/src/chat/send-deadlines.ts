/**
 * Overload shedding of `chat.send-batch` (docs/chat.md) without reordering a sender's messages.
 *
 * A batched request carries a deadline (the batch's arrival + `budgetMs`); a request still undecided then is refused
 * `unavailable` instead of being decided. Deadlines differ between batches, so shedding by deadline alone could refuse
 * a sender's message A and then store their later message B that arrived before A was refused (B's deadline had not
 * passed yet): A's resend would land after B. So once a message of a sender is shed at time t, every message of that
 * sender that ARRIVED at or before t and is still undecided is shed too; a message arriving after t (the client's
 * resends, its next messages) is decided normally. Found by review of the batching change.
 */

import type { ChatSendReply } from '@eventcast/contracts';
import { DomainError } from '@eventcast/domain';

/** Milliseconds a message refused for its deadline should wait before it is sent again. */
const PAST_DEADLINE_RETRY_MS = 500;
const PAST_DEADLINE_MESSAGE = 'chat is busy; try again';

/** The reply to a request refused for its deadline before any work (nothing was recorded). */
export const PAST_DEADLINE_REPLY: ChatSendReply = Object.freeze({ ok: false, code: 'unavailable', message: PAST_DEADLINE_MESSAGE, retryAfterMs: PAST_DEADLINE_RETRY_MS });

/**
 * The same refusal thrown where the message is being decided (the chat room's lane): `unavailable`, retry in 500 ms;
 * chat-nats.controller.ts turns it into {@link PAST_DEADLINE_REPLY}'s shape like any chat DomainError.
 */
export class PastDeadlineError extends DomainError {
  constructor() {
    super('unavailable', PAST_DEADLINE_MESSAGE, { retryAfterMs: PAST_DEADLINE_RETRY_MS });
  }
}

/** Entries kept before expired ones are dropped, and how long an entry matters (ms): longer than any budget. */
const MAX_SENDERS = 10_000;
const KEEP_MS = 120_000;

/** When each sender last had a message shed (epoch ms). One per command-api process. */
export class SenderShedLog {
  private readonly lastShed = new Map<string, number>();

  /**
   * The predicate of one request: true (and remembered for its sender) once `deadline` (epoch ms) has passed, or when
   * a message of the same sender was shed at or after `receivedAt` (epoch ms). Evaluated wherever the request may
   * wait (before its idempotency claim, in the claim group, in the chat room's lane).
   */
  expiry(senderId: string, receivedAt: number, deadline: number): () => boolean {
    return () => {
      const now = Date.now();
      if (now > deadline) {
        this.mark(senderId, now);
        return true;
      }
      const last = this.lastShed.get(senderId);
      return last !== undefined && receivedAt <= last;
    };
  }

  private mark(senderId: string, at: number): void {
    if (this.lastShed.size >= MAX_SENDERS && !this.lastShed.has(senderId)) {
      for (const [s, t] of this.lastShed) if (t < at - KEEP_MS) this.lastShed.delete(s);
      if (this.lastShed.size >= MAX_SENDERS) this.lastShed.clear();
    }
    this.lastShed.set(senderId, at);
  }
}
