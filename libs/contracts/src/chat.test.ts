/// <reference types="node" />
/**
 * The chat contracts' parse logic: the realtime edge reads a `chat.send` reply from another process with
 * `parseChatSendReply`, command-api validates the request with `chatSendRequestSchema`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CHAT_REFUSAL_CODES,
  CHAT_SEND_BATCH_MAX,
  DEFAULT_CHAT_SETTINGS,
  chatSendBatchRequestSchema,
  chatSendRequestSchema,
  chatSettingsSchema,
  isChatRefusalCode,
  parseChatSendBatchReply,
  parseChatSendReply,
} from './chat.js';

void describe('parseChatSendReply', () => {
  void it('reads an ack and keeps only its fields', () => {
    assert.deepEqual(parseChatSendReply({ ok: true, messageId: 'm1', visibleAt: '2026-12-07T12:00:00.000Z', extra: 1 }), {
      ok: true,
      messageId: 'm1',
      visibleAt: '2026-12-07T12:00:00.000Z',
    });
  });

  void it('reads every contract refusal code as itself, with its message and retryAfterMs', () => {
    for (const code of CHAT_REFUSAL_CODES) {
      assert.deepEqual(parseChatSendReply({ ok: false, code, message: `no: ${code}`, retryAfterMs: 1500 }), { ok: false, code, message: `no: ${code}`, retryAfterMs: 1500 });
    }
  });

  void it('turns a code it does not know into internal_error, keeping the message', () => {
    assert.deepEqual(parseChatSendReply({ ok: false, code: 'something_new', message: 'a newer command side' }), {
      ok: false,
      code: 'internal_error',
      message: 'a newer command side',
    });
  });

  void it('uses the code as the message when none is sent, and drops a retryAfterMs that is not a number ≥ 0', () => {
    assert.deepEqual(parseChatSendReply({ ok: false, code: 'slow_mode' }), { ok: false, code: 'slow_mode', message: 'slow_mode' });
    for (const retryAfterMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, '100', null]) {
      assert.deepEqual(parseChatSendReply({ ok: false, code: 'rate_limited', message: 'm', retryAfterMs }), { ok: false, code: 'rate_limited', message: 'm' });
    }
    assert.deepEqual(parseChatSendReply({ ok: false, code: 'rate_limited', message: 'm', retryAfterMs: 0 }), { ok: false, code: 'rate_limited', message: 'm', retryAfterMs: 0 });
  });

  void it('answers null for anything that is neither an ack nor a refusal', () => {
    for (const v of [null, undefined, 'ok', 42, [], {}, { ok: true }, { ok: true, messageId: 'm' }, { ok: true, messageId: 1, visibleAt: 'x' }, { ok: false }, { ok: false, code: 7 }, { ok: 'false', code: 'banned' }]) {
      assert.equal(parseChatSendReply(v), null, JSON.stringify(v));
    }
  });
});

void describe('chat contract values', () => {
  void it('isChatRefusalCode accepts exactly the listed codes', () => {
    for (const code of CHAT_REFUSAL_CODES) assert.equal(isChatRefusalCode(code), true);
    for (const v of ['forbidden', 'BANNED', '', null, 3, 'not_subscribed']) assert.equal(isChatRefusalCode(v), false);
  });

  void it('the default settings are valid settings and cannot be changed in place', () => {
    assert.deepEqual(chatSettingsSchema.parse(DEFAULT_CHAT_SETTINGS), DEFAULT_CHAT_SETTINGS);
    assert.equal(Object.isFrozen(DEFAULT_CHAT_SETTINGS), true);
  });

  void it('chatSendRequestSchema takes a nonce of 1–64 characters and a stored username', () => {
    const base = { channelId: '0b5c8a44-7d2e-4a53-9a0e-3f6f0c2d9b11', senderId: '6f1d2c3b-4a5e-4f60-8b7c-9d0e1f2a3b4c', senderName: 'alice_1', text: 'hi' };
    assert.equal(chatSendRequestSchema.safeParse(base).success, true);
    assert.equal(chatSendRequestSchema.safeParse({ ...base, nonce: 'n'.repeat(64) }).success, true);
    assert.equal(chatSendRequestSchema.safeParse({ ...base, nonce: '' }).success, false);
    assert.equal(chatSendRequestSchema.safeParse({ ...base, nonce: 'n'.repeat(65) }).success, false);
    assert.equal(chatSendRequestSchema.safeParse({ ...base, senderName: 'Alice' }).success, false);
    assert.equal(chatSendRequestSchema.safeParse({ ...base, channelId: 'not-a-uuid' }).success, false);
  });
});

void describe('chat.send-batch', () => {
  const ack = { ok: true, messageId: 'm1', visibleAt: '2026-12-07T12:00:00.000Z' };
  const busy = { ok: false, code: 'unavailable', message: 'chat is busy; try again', retryAfterMs: 500 };

  void it('reads one reply per request, in order', () => {
    assert.deepEqual(parseChatSendBatchReply({ ok: true, replies: [ack, busy] }, 2), [ack, busy]);
  });

  void it('repeats the refusal of a malformed batch for every request', () => {
    const refusal = { ok: false, code: 'invalid_request', message: 'requests: too big' };
    assert.deepEqual(parseChatSendBatchReply(refusal, 3), [refusal, refusal, refusal]);
  });

  void it('refuses a reply with another number of replies, or a malformed one', () => {
    assert.equal(parseChatSendBatchReply({ ok: true, replies: [ack] }, 2), null);
    assert.equal(parseChatSendBatchReply({ ok: true, replies: [ack, { ok: 'yes' }] }, 2), null);
    assert.equal(parseChatSendBatchReply({ ok: true }, 1), null);
    assert.equal(parseChatSendBatchReply('x', 1), null);
    assert.equal(parseChatSendBatchReply({ ok: false }, 1), null);
  });

  void it('validates the envelope only: items are checked one by one by the command side', () => {
    assert.equal(chatSendBatchRequestSchema.safeParse({ requests: [1, 'x'], budgetMs: 100 }).success, true);
    assert.equal(chatSendBatchRequestSchema.safeParse({ requests: [], budgetMs: 100 }).success, false);
    assert.equal(chatSendBatchRequestSchema.safeParse({ requests: Array(CHAT_SEND_BATCH_MAX + 1).fill({}), budgetMs: 100 }).success, false);
    assert.equal(chatSendBatchRequestSchema.safeParse({ requests: [{}], budgetMs: 0 }).success, false);
    assert.equal(chatSendBatchRequestSchema.safeParse({ requests: [{}] }).success, false);
  });
});
