import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { streams } from '@eventcast/events';
import { accountDecider, DomainError, usernameDecider } from '@eventcast/domain';
import { WrongExpectedRevisionError, type EventStore } from '@eventcast/event-store';
import { handleCommand } from '../../core/handle-command.js';
import { CONFIG, EVENT_STORE } from '../../core/tokens.js';
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
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: CommandApiConfig,
  ) {}

  /** @returns the new account's id and username. */
  async execute({ username, password, metadata }: RegisterAccountCommand): Promise<{ accountId: string; username: string }> {
    const accountId = randomUUID();
    const passwordHash = await hashPassword(password);
    const meta = { ...metadata, actorId: accountId };
    try {
      await handleCommand(this.store, streams.username(username), usernameDecider, { type: 'ClaimUsername', username, accountId }, meta);
    } catch (err) {
      if (err instanceof WrongExpectedRevisionError || (err instanceof DomainError && err.code === 'username_taken')) {
        throw new DomainError('username_taken', 'username is taken');
      }
      throw err;
    }
    const { material } = issueStreamKey(accountId, this.config.STREAM_KEY_SECRET);
    await handleCommand(
      this.store,
      streams.account(accountId),
      accountDecider,
      { type: 'RegisterAccount', accountId, username, passwordHash, streamKey: material },
      meta,
    );
    return { accountId, username };
  }
}
