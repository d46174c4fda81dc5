import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Aggregates } from '../../core/aggregates.js';
import { CONFIG } from '../../core/tokens.js';
import type { CommandApiConfig } from '../../core/config.js';
import { issueStreamKey } from '../stream-keys.js';
import { RotateStreamKeyCommand, type RotatedStreamKey } from './rotate-stream-key.command.js';

/** Appends StreamKeyRotated with a fresh key. @throws {DomainError} `account_not_found`. */
@CommandHandler(RotateStreamKeyCommand)
export class RotateStreamKeyHandler implements ICommandHandler<RotateStreamKeyCommand> {
  constructor(
    private readonly aggregates: Aggregates,
    @Inject(CONFIG) private readonly config: CommandApiConfig,
  ) {}

  /** @returns the new plaintext key and the recorded event's time. */
  async execute({ accountId, metadata }: RotateStreamKeyCommand): Promise<RotatedStreamKey> {
    const { plaintext, material } = issueStreamKey(accountId, this.config.STREAM_KEY_SECRET);
    const accounts = this.aggregates.accounts;
    const { revision } = await accounts.handle(accountId, { type: 'RotateStreamKey', streamKey: material }, metadata);
    const [recorded] = revision === null ? [] : await accounts.store.readStream(accounts.streamOf(accountId), { from: revision, limit: 1 });
    return { streamKey: plaintext, issuedAt: recorded?.occurredAt ?? new Date() };
  }
}
