/**
 * What the edge does with each relayable event (docs/chat.md "Push"): teach the channel directory the channel id,
 * hold a `ChatMessageSent` until its `visibleAt`, drop held messages on `ChatMessageDeleted` / `ChatCleared`, and
 * publish everything else at once. Frames arrive already encoded (once per event, ./relayable.ts) and go to the uWS
 * topic of the channel, so the per-viewer cost is the C++ fan-out only.
 */
import type { ChannelDirectory } from './channel-directory.js';
import type { HeldMessages } from './held-messages.js';
import type { RelayDecision } from './relayable.js';
import { DIRECTORY_EVENTS } from './protocol.js';

/** A relayable decision (`relay: true`). */
export type Relayable = RelayDecision & { relay: true };

/** Routes relayable events to topics, applying the message hold-back. */
export class FanOut {
  /**
   * @param publish sends an encoded frame to every subscriber of `channel` on this edge.
   * @param held the hold-back buffer (it publishes through the same `publish`).
   * @param directory learns username → channel id from every event.
   */
  constructor(
    private readonly publish: (channel: string, frame: string) => void,
    private readonly held: HeldMessages,
    private readonly directory: ChannelDirectory,
    /** Sends an encoded frame to the directory feed (go-live/offline/title of every channel). */
    private readonly publishDirectory: (frame: string) => void = () => undefined,
  ) {}

  /** Handles one relayable event of a watched channel (its topic only). Never throws for a well-formed decision (publish errors propagate). */
  route(d: Relayable): void {
    const data = d.event.data as { channelId?: unknown; messageId?: unknown; visibleAt?: unknown; senderId?: unknown; userId?: unknown };
    if (typeof data.channelId === 'string') this.directory.learn(d.channel, data.channelId);
    switch (d.event.type) {
      case 'ChatMessageSent':
        this.held.offer(d.channel, String(data.messageId), Date.parse(String(data.visibleAt)), d.frame, typeof data.senderId === 'string' ? data.senderId : null);
        return;
      case 'ChatMessageDeleted':
        this.held.drop(String(data.messageId));
        break;
      case 'ChatCleared':
        this.held.dropChannel(d.channel);
        break;
      case 'ChatUserBanned':
      case 'ChatUserTimedOut':
        if (typeof data.userId === 'string') this.held.dropSender(d.channel, data.userId);
        break;
    }
    this.publish(d.channel, d.frame);
  }

  /**
   * Handles one event of the directory feed's consumers (./interest.ts): go-live/offline and title changes
   * (`DIRECTORY_EVENTS`) go to the directory topic; the channel topics get them from the channel's own consumer.
   */
  routeDirectory(d: Relayable): void {
    const data = d.event.data as { channelId?: unknown };
    if (typeof data.channelId === 'string') this.directory.learn(d.channel, data.channelId);
    if (DIRECTORY_EVENTS.has(d.event.type)) this.publishDirectory(d.frame);
  }
}
