import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError } from '@eventcast/domain';
import { WrongExpectedRevisionError } from '@eventcast/event-store';
import { Aggregates } from '../../core/aggregates.js';
import { CONFIG } from '../../core/tokens.js';
import type { CommandApiConfig } from '../../core/config.js';
import { hashPassword } from '../passwords.js';
import { issueStreamKey } from '../stream-keys.js';
import { RegisterAccountCommand } from './register-account.command.js';

/**
 * Claims `username-<name>` (expected `no_stream`), then appends AccountRegistered + StreamKeyIssued to a new
 * `account-<id>`. @throws {DomainError} `username_taken` ("username is taken") when another account holds the name.
 */
@CommandHandler(RegisterAccountCommand)
export class RegisterAccountHandler implements ICommandHandler<RegisterAccountCommand> {
  constructor(
    private readonly aggregates: Aggregates,
    @Inject(CONFIG) private readonly config: CommandApiConfig,
  ) {}

  /** @returns the new account's id and username. */
  async execute({ username, password, metadata }: RegisterAccountCommand): Promise<{ accountId: string; username: string }> {
    const accountId = randomUUID();
    const passwordHash = await hashPassword(password);
    const meta = { ...metadata, actorId: accountId };
    try {
      await this.aggregates.usernames.handle(username, { type: 'ClaimUsername', username, accountId }, meta);
    } catch (err) {
      if (err instanceof WrongExpectedRevisionError || (err instanceof DomainError && err.code === 'username_taken')) {
        throw new DomainError('username_taken', 'username is taken');
      }
      throw err;
    }
    const { material } = issueStreamKey(accountId, this.config.STREAM_KEY_SECRET);
    await this.aggregates.accounts.handle(accountId, { type: 'RegisterAccount', accountId, username, passwordHash, streamKey: material }, meta);
    return { accountId, username };
  }
}
