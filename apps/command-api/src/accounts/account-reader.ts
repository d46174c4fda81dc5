/**
 * Reads account aggregates straight from the event store (the command side keeps no read model): by id, and by
 * username through the username reservation stream.
 */
import { Injectable } from '@nestjs/common';
import { usernameSchema } from '@eventcast/events';
import { DomainError, type AccountState } from '@eventcast/domain';
import { Aggregates } from '../core/aggregates.js';

/** A registered account. */
export type RegisteredAccount = Extract<AccountState, { status: 'registered' }>;

/** An account with the time its current stream key was issued (null when it has none). */
export interface LoadedAccount {
  state: AccountState;
  keyIssuedAt: Date | null;
}

/** Loads accounts from the store. */
@Injectable()
export class AccountReader {
  constructor(private readonly aggregates: Aggregates) {}

  /** Folds `account-<id>`; `state.status` is `'unregistered'` for an unknown id. */
  async load(accountId: string): Promise<LoadedAccount> {
    const { state, events } = await this.aggregates.accounts.history(accountId);
    const keyEvent = events.findLast((e) => e.type === 'StreamKeyIssued' || e.type === 'StreamKeyRotated');
    return { state, keyIssuedAt: keyEvent?.occurredAt ?? null };
  }

  /** Loads a registered account. @throws {DomainError} `account_not_found`. */
  async require(accountId: string): Promise<{ account: RegisteredAccount; keyIssuedAt: Date | null }> {
    const { state, keyIssuedAt } = await this.load(accountId);
    if (state.status !== 'registered') throw new DomainError('account_not_found', 'account does not exist');
    return { account: state, keyIssuedAt };
  }

  /** The account id holding `username` (case-insensitive), or null when free or not a valid username. */
  async findAccountId(username: string): Promise<string | null> {
    const name = username.toLowerCase();
    if (!usernameSchema.safeParse(name).success) return null;
    const { state } = await this.aggregates.usernames.load(name);
    return state.accountId;
  }
}
