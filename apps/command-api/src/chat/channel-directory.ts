/**
 * Resolves channels and users for the chat commands: channel id → `{ id, username, ownerId }` (from `account-<id>`)
 * and username → account (through the username reservation stream `username-<name>`). Usernames never change and
 * accounts are never deleted, so positive answers are cached (LRU, 10 000 entries each); unknown ones are not.
 */
import { Injectable } from '@nestjs/common';
import type { ChatChannel, ChatUser } from '@eventcast/domain';
import { AccountReader } from '../accounts/account-reader.js';
import { LruCache } from '../core/lru-cache.js';

const CAPACITY = 10_000;

/** Channel and user lookups with a cache. */
@Injectable()
export class ChannelDirectory {
  private readonly byId = new LruCache<string, ChatChannel>(CAPACITY);
  private readonly idByName = new LruCache<string, string>(CAPACITY);

  constructor(private readonly accounts: AccountReader) {}

  /** The channel of account `channelId`, or null when no such account is registered. */
  async channelById(channelId: string): Promise<ChatChannel | null> {
    const cached = this.byId.get(channelId);
    if (cached) return cached;
    const { state } = await this.accounts.load(channelId);
    if (state.status !== 'registered') return null;
    const channel = { id: state.accountId, username: state.username, ownerId: state.accountId };
    this.byId.set(channelId, channel);
    return channel;
  }

  /** The channel of `username` (case-insensitive), or null when unknown. */
  async channelByUsername(username: string): Promise<ChatChannel | null> {
    const id = await this.accountIdOf(username);
    return id === null ? null : this.channelById(id);
  }

  /** The user `{ id, name }` holding `username` (case-insensitive), or null when unknown. */
  async userByUsername(username: string): Promise<ChatUser | null> {
    const channel = await this.channelByUsername(username);
    return channel ? { id: channel.id, name: channel.username } : null;
  }

  private async accountIdOf(username: string): Promise<string | null> {
    const name = username.toLowerCase();
    const cached = this.idByName.get(name);
    if (cached) return cached;
    const id = await this.accounts.findAccountId(name);
    if (id !== null) this.idByName.set(name, id);
    return id;
  }
}
