import { Command } from '@nestjs/cqrs';
import type { PublishProof } from '@eventcast/contracts';
import type { EventMetadata, PublishRejectionReason } from '@eventcast/events';

/** Reply of `ingest.authorize-publish` (docs/contracts.md). */
export type AuthorizePublishReply =
  | { allowed: true; channelId: string; username: string }
  | { allowed: false; reason: PublishRejectionReason; message: string };

/**
 * May the key that `proof` proves knowledge of publish to `channelId` (null: the key was malformed)? The proof is a
 * one-time HMAC keyed by the key's SHA-256 (`publishProofSchema` of @eventcast/contracts).
 */
export class AuthorizePublishCommand extends Command<AuthorizePublishReply> {
  constructor(
    readonly channelId: string | null,
    readonly proof: PublishProof,
    readonly remoteAddress: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
