import { Command } from '@nestjs/cqrs';
import type { EventMetadata } from '@eventcast/events';

/** The owner's new stream key (plaintext, for the owner's response only) and when it was recorded. */
export interface RotatedStreamKey {
  streamKey: string;
  issuedAt: Date;
}

/** Replaces the stream key of `accountId`; the old key stops authorizing publishes at once. */
export class RotateStreamKeyCommand extends Command<RotatedStreamKey> {
  constructor(
    readonly accountId: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
