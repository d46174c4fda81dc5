import { Command } from '@nestjs/cqrs';
import type { EventMetadata, MediaInfo } from '@eventcast/events';

/** Starts broadcast `broadcastId` (made by ingest) on channel `channelId`. Repeating the live one is a no-op. */
export class StartBroadcastCommand extends Command<{ broadcastId: string; record: boolean }> {
  constructor(
    readonly channelId: string,
    readonly broadcastId: string,
    readonly media: MediaInfo,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
