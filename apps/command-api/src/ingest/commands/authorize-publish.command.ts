import { Command } from '@nestjs/cqrs';
import type { EventMetadata, PublishRejectionReason } from '@eventcast/events';

/** Reply of `ingest.authorize-publish` (docs/contracts.md). */
export type AuthorizePublishReply =
  | { allowed: true; channelId: string; username: string }
  | { allowed: false; reason: PublishRejectionReason; message: string };

/** May the key whose SHA-256 is `streamKeyHash` publish to `channelId` (null: the key was malformed)? */
export class AuthorizePublishCommand extends Command<AuthorizePublishReply> {
  constructor(
    readonly channelId: string | null,
    readonly streamKeyHash: string,
    readonly remoteAddress: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
