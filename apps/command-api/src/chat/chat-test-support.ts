/** Test helpers of the chat feature: a channel with an owner, a moderator and viewers, and shorthand requests. */
import { CommandPatterns } from '@eventcast/events';
import { bearer, register, type Harness, type HttpReply } from '../test-support/harness.js';

/** A registered user. */
export interface TestUser {
  token: string;
  id: string;
  name: string;
}

/** A channel whose owner made `mod` a moderator; `viewer` and `other` are plain users. */
export interface TestRoom {
  owner: TestUser;
  mod: TestUser;
  viewer: TestUser;
  other: TestUser;
}

/** Registers `name`. */
export async function user(h: Harness, name: string): Promise<TestUser> {
  const { token, id } = await register(h, name);
  return { token, id, name };
}

/** Registers `<prefix>_own`, `_mod`, `_view`, `_oth` and makes `_mod` a moderator. @throws when a step fails. */
export async function room(h: Harness, prefix: string): Promise<TestRoom> {
  const [owner, mod, viewer, other] = await Promise.all(['own', 'mod', 'view', 'oth'].map((s) => user(h, `${prefix}_${s}`))) as [TestUser, TestUser, TestUser, TestUser];
  const r = await h.http('PUT', `/channels/${owner.name}/chat/moderators/${mod.name}`, undefined, bearer(owner.token));
  if (r.status !== 200) throw new Error(`add moderator: ${r.status} ${JSON.stringify(r.body)}`);
  return { owner, mod, viewer, other };
}

/** `chat.send` over NATS as `sender` in `channel`. */
export function natsSend(h: Harness, channel: TestUser, sender: TestUser, text: string): Promise<Record<string, unknown>> {
  return h.request<Record<string, unknown>>(CommandPatterns.ChatSend, { channelId: channel.id, senderId: sender.id, senderName: sender.name, text });
}

/** `POST /channels/:channel/chat/messages` as `sender`. */
export function httpSend(h: Harness, channel: TestUser, sender: TestUser, text: string): Promise<HttpReply> {
  return h.http('POST', `/channels/${channel.name}/chat/messages`, { text }, bearer(sender.token));
}

/** A request to `path` under `/channels/:channel` as `actor` (null: no token). */
export function as(h: Harness, actor: TestUser | null, method: string, channel: TestUser, path: string, body?: unknown): Promise<HttpReply> {
  return h.http(method, `/channels/${channel.name}${path}`, body, actor ? bearer(actor.token) : {});
}
