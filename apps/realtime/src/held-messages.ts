/**
 * Delayed chat messages (docs/chat.md: "a `ChatMessageSent` with a future `visibleAt` is held by the edge until then,
 * and dropped if a `ChatMessageDeleted`/`ChatCleared` for it arrives first").
 *
 * One timer per held message; the already-encoded frame is kept, so releasing it is one `publish` (uWS fan-out).
 * Bounded: at most `maxHeld` messages at once (further ones are dropped and counted: delivery is at-most-once anyway),
 * and no message is held longer than `maxHoldMs` (protects against clock skew or a bogus `visibleAt`).
 */

/** Options of {@link HeldMessages}. */
export interface HeldMessagesOptions {
  /** Most messages held at once on this edge. Default 20 000. */
  maxHeld?: number;
  /** Longest hold in ms (the room's delay is at most 6 s). Default 15 000. */
  maxHoldMs?: number;
  /** Clock in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** What {@link HeldMessages.offer} did with a message. */
export type OfferResult = 'published' | 'held' | 'dropped';

interface Held {
  channel: string;
  /** Sender's account id, for {@link HeldMessages.dropSender}; null when unknown. */
  senderId: string | null;
  timer: NodeJS.Timeout;
}

/** Holds message frames until their `visibleAt`, then publishes them. */
export class HeldMessages {
  private readonly byId = new Map<string, Held>();
  private readonly byChannel = new Map<string, Set<string>>();
  private readonly maxHeld: number;
  private readonly maxHoldMs: number;
  private readonly now: () => number;
  /** Messages dropped because {@link HeldMessagesOptions.maxHeld} was reached (since start). */
  overflowDrops = 0;

  /** @param publish called with the channel and the encoded frame when a message becomes visible. */
  constructor(
    private readonly publish: (channel: string, frame: string) => void,
    options: HeldMessagesOptions = {},
  ) {
    this.maxHeld = options.maxHeld ?? 20_000;
    this.maxHoldMs = options.maxHoldMs ?? 15_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Publishes `frame` now when `visibleAtMs` has passed (or is not a number), else holds it until then.
   * @param messageId the message's id (the key for {@link drop}).
   * @param visibleAtMs `visibleAt` in ms since the epoch.
   * @param senderId the sender's account id (the key for {@link dropSender}).
   */
  offer(channel: string, messageId: string, visibleAtMs: number, frame: string, senderId: string | null = null): OfferResult {
    const delay = Number.isFinite(visibleAtMs) ? Math.min(visibleAtMs - this.now(), this.maxHoldMs) : 0;
    if (delay <= 0) {
      this.publish(channel, frame);
      return 'published';
    }
    if (this.byId.has(messageId)) return 'held'; // a redelivered duplicate
    if (this.byId.size >= this.maxHeld) {
      this.overflowDrops += 1;
      return 'dropped';
    }
    const timer = setTimeout(() => {
      this.forget(messageId);
      this.publish(channel, frame);
    }, delay);
    this.byId.set(messageId, { channel, senderId, timer });
    let ids = this.byChannel.get(channel);
    if (!ids) this.byChannel.set(channel, (ids = new Set()));
    ids.add(messageId);
    return 'held';
  }

  /** Drops a held message (on `ChatMessageDeleted`). @returns true when it was held. */
  drop(messageId: string): boolean {
    const held = this.forget(messageId);
    if (held) clearTimeout(held.timer);
    return held !== undefined;
  }

  /** Drops every held message of `channel` (on `ChatCleared`). @returns how many were dropped. */
  dropChannel(channel: string): number {
    const ids = this.byChannel.get(channel);
    if (!ids) return 0;
    let n = 0;
    for (const id of [...ids]) if (this.drop(id)) n += 1;
    return n;
  }

  /**
   * Drops every held message of `senderId` in `channel` (on `ChatUserBanned` / `ChatUserTimedOut`: like Twitch, a
   * moderator acting during the message delay keeps that user's pending messages from ever being shown).
   * @returns how many were dropped.
   */
  dropSender(channel: string, senderId: string): number {
    const ids = this.byChannel.get(channel);
    if (!ids) return 0;
    let n = 0;
    for (const id of [...ids]) if (this.byId.get(id)?.senderId === senderId && this.drop(id)) n += 1;
    return n;
  }

  /** Messages held right now. */
  get size(): number {
    return this.byId.size;
  }

  /** Drops everything without publishing (shutdown). */
  close(): void {
    for (const { timer } of this.byId.values()) clearTimeout(timer);
    this.byId.clear();
    this.byChannel.clear();
  }

  private forget(messageId: string): Held | undefined {
    const held = this.byId.get(messageId);
    if (!held) return undefined;
    this.byId.delete(messageId);
    const ids = this.byChannel.get(held.channel);
    ids?.delete(messageId);
    if (ids?.size === 0) this.byChannel.delete(held.channel);
    return held;
  }
}
