/**
 * A refused moderation command says why over HTTP (issue 9 item 9): 403 with `code: 'forbidden'`, the refusal code of
 * @eventcast/contracts in `reason` and the sentence in `message` — not a bare "forbidden".
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { moderationRefusalBodySchema, type ModerationRefusal } from '@eventcast/contracts';
import { startHarness, type Harness } from '../test-support/harness.js';
import { as, room } from './chat-test-support.js';

describe('moderation refusals over HTTP', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  it('answers 403 with the reason code and a sentence for each refused moderation command', async () => {
    const r = await room(h, 'why');
    const expect403 = async (reply: Promise<{ status: number; body: Record<string, unknown> }>, reason: ModerationRefusal, message: string) => {
      const { status, body } = await reply;
      assert.equal(status, 403, JSON.stringify(body));
      assert.deepEqual(moderationRefusalBodySchema.parse(body), { statusCode: 403, error: 'Forbidden', code: 'forbidden', reason, message });
    };
    await expect403(as(h, r.mod, 'POST', r.owner, '/chat/bans', { username: r.owner.name }), 'target_is_owner', 'moderators cannot ban the channel owner');
    await expect403(as(h, r.mod, 'POST', r.owner, '/chat/timeouts', { username: r.owner.name, durationSeconds: 60 }), 'target_is_owner', 'moderators cannot time out the channel owner');
    await expect403(as(h, r.owner, 'POST', r.owner, '/chat/bans', { username: r.owner.name }), 'target_is_owner', 'the channel owner cannot ban themselves');
    await expect403(as(h, r.mod, 'PUT', r.owner, `/chat/moderators/${r.other.name}`), 'owner_only', 'only the channel owner adds moderators');
    await expect403(as(h, r.mod, 'DELETE', r.owner, `/chat/moderators/${r.mod.name}`), 'owner_only', 'only the channel owner removes moderators');
    await expect403(
      as(h, r.viewer, 'PUT', r.owner, '/chat/settings', { slowModeSeconds: 5 }),
      'not_moderator',
      'you are not a moderator of this channel: only the owner and moderators may change chat settings',
    );
    await expect403(as(h, r.owner, 'PUT', r.owner, `/chat/moderators/${r.owner.name}`), 'target_is_owner_moderator', 'the channel owner cannot be made a moderator');
    assert.equal((await as(h, r.owner, 'PUT', r.owner, `/chat/moderators/${r.other.name}`)).status, 200);
    await expect403(as(h, r.mod, 'POST', r.owner, '/chat/bans', { username: r.other.name }), 'target_is_moderator', 'moderators cannot ban other moderators: only the channel owner can');
    assert.equal((await as(h, r.owner, 'POST', r.owner, '/chat/bans', { username: r.viewer.name })).status, 201);
    await expect403(as(h, r.owner, 'PUT', r.owner, `/chat/moderators/${r.viewer.name}`), 'target_banned', `${r.viewer.name} is banned: unban them before making them a moderator`);
    // Other chat refusals keep their code as the message (docs/chat.md).
    const banned = await as(h, r.viewer, 'POST', r.owner, '/chat/messages', { text: 'hi' });
    assert.deepEqual([banned.status, banned.body['message'], banned.body['code'], 'reason' in banned.body], [403, 'banned', 'banned', false]);
  });
});
