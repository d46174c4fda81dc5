import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { InvalidEventError, validateEventData, validateRecorded, type RecordedEvent } from './index.js';
import { CHAT_MESSAGE_MAX_LENGTH, chatTextStatus, findTextProblem, freeText, freeTextReason, graphemeLength, isCleanText, replaceRefusedCharacters } from '@eventcast/contracts';

describe('text rule', () => {
  it('counts user-perceived characters (graphemes), not UTF-16 units', () => {
    assert.equal(graphemeLength('abc'), 3);
    assert.equal(graphemeLength('👍'), 1);
    assert.equal(graphemeLength('e\u0301'), 1, 'a letter with a combining accent counts once');
    assert.equal(graphemeLength('e\u0301\u0302\u0303'), 1, 'several combining accents still count once');
    assert.equal(graphemeLength('👨‍👩‍👧'), 1, 'a ZWJ family emoji counts once');
    assert.equal(graphemeLength('🇫🇷'), 1, 'a flag counts once');
    assert.equal(graphemeLength('\r\n'), 1);
    assert.equal(graphemeLength(''), 0);
  });

  it('500 emoji fit in a chat message, 501 do not; combining accents count once', () => {
    assert.equal(chatTextStatus('😀'.repeat(CHAT_MESSAGE_MAX_LENGTH)).tooLong, false);
    assert.equal(chatTextStatus('😀'.repeat(CHAT_MESSAGE_MAX_LENGTH + 1)).tooLong, true);
    assert.equal(chatTextStatus('é'.repeat(CHAT_MESSAGE_MAX_LENGTH)).length, 500);
    assert.equal(chatTextStatus('e\u0301'.repeat(CHAT_MESSAGE_MAX_LENGTH)).tooLong, false);
    assert.equal(chatTextStatus('a'.repeat(CHAT_MESSAGE_MAX_LENGTH + 1)).tooLong, true);
    assert.equal(chatTextStatus(`  ${'a'.repeat(CHAT_MESSAGE_MAX_LENGTH)}  `).tooLong, false, 'trimmed first');
  });

  it('refuses NUL, every C0/C1 control, bidi overrides and isolates, and unpaired surrogates', () => {
    const refused: number[] = [];
    for (let c = 0; c <= 0x1f; c++) refused.push(c);
    for (let c = 0x7f; c <= 0x9f; c++) refused.push(c);
    for (let c = 0x202a; c <= 0x202e; c++) refused.push(c);
    for (let c = 0x2066; c <= 0x2069; c++) refused.push(c);
    for (const c of refused) {
      const p = findTextProblem(`ok ${String.fromCharCode(c)} ok`);
      if (!p) assert.fail(`U+${c.toString(16)} must be refused`);
      assert.equal(p.codeUnit, c);
      assert.equal(p.index, 3);
    }
    assert.equal(findTextProblem('x\u0000')?.kind, 'control');
    assert.equal(findTextProblem('abc\u202edcba')?.kind, 'bidi');
    assert.equal(findTextProblem('lone \ud800 lead')?.kind, 'surrogate');
    assert.equal(findTextProblem('lone \udc00 trail')?.kind, 'surrogate');
    assert.equal(findTextProblem('end \ud83d')?.kind, 'surrogate');
    assert.equal(findTextProblem('\ude00 start')?.kind, 'surrogate');
    assert.match(findTextProblem('x\u0000')!.reason, /U\+0000/);
  });

  it('accepts ordinary text of every script, emoji, and the implicit direction marks', () => {
    for (const ok of ['hello chat', 'f-word', '😀👍🏽', 'שלום עולם', 'مرحبا \u061c', 'a\u200eb\u200fc', '日本語', 'naïve café', '~!@#$%^&*()_+{}|:"<>?`-=[]\\;\',./']) {
      assert.equal(isCleanText(ok), true, ok);
    }
  });

  it('zod refinement and the DTO reason say what is wrong', () => {
    const schema = z.object({ text: freeText({ min: 1, max: 5 }) });
    assert.equal(schema.safeParse({ text: '😀😀😀😀😀' }).success, true);
    assert.equal(schema.safeParse({ text: '😀😀😀😀😀😀' }).success, false);
    const bad = schema.safeParse({ text: 'a\u202eb' });
    assert.equal(bad.success, false);
    assert.match(bad.error.issues[0]!.message, /U\+202E/);
    assert.match(freeTextReason('title', 'a\u0000')!, /^title contains U\+0000, a control character/);
    assert.equal(freeTextReason('title', 'fine'), null);
    assert.equal(freeTextReason('title', 42), null);
  });

  it('replaceRefusedCharacters makes stored text clean without losing the rest', () => {
    assert.equal(replaceRefusedCharacters('a\u202eb\tc\ud800'), 'a\ufffdb\ufffdc\ufffd');
    assert.equal(replaceRefusedCharacters('😀 ok'), '😀 ok');
  });
});

describe('event schemas apply the text rule', () => {
  const room = { channelId: '11111111-1111-4111-8111-111111111111', username: 'alice' };
  const sent = (text: string) => ({
    ...room,
    messageId: '22222222-2222-4222-8222-222222222222',
    senderId: '33333333-3333-4333-8333-333333333333',
    senderName: 'bob',
    senderRole: 'viewer',
    text,
    maskedTerms: 0,
    sentAt: '2026-12-07T00:00:00.000Z',
    visibleAt: '2026-12-07T00:00:00.000Z',
  });
  const actor = { moderatorId: '44444444-4444-4444-8444-444444444444', moderatorName: 'mod' };

  it('refuses NUL, lone surrogates and bidi overrides in every free-text field on write', () => {
    for (const bad of ['x\u0000', 'x\ud800', '\u202eesrever', 'tab\there']) {
      assert.throws(() => validateEventData('ChatMessageSent', 2, sent(bad)), InvalidEventError, JSON.stringify(bad));
      assert.throws(() => validateEventData('ChannelInfoUpdated', 1, { channelId: room.channelId, username: 'alice', title: bad, category: '' }), InvalidEventError);
      assert.throws(() => validateEventData('ChannelInfoUpdated', 1, { channelId: room.channelId, username: 'alice', title: '', category: bad }), InvalidEventError);
      assert.throws(() => validateEventData('ChatUserBanned', 1, { ...room, ...actor, userId: room.channelId, userName: 'bob', reason: bad }), InvalidEventError);
      assert.throws(() => validateEventData('ChatBlockedTermsUpdated', 1, { ...room, ...actor, terms: [bad], action: 'mask' }), InvalidEventError);
    }
  });

  it('counts chat text in graphemes: 500 emoji are valid, 501 are not', () => {
    assert.doesNotThrow(() => validateEventData('ChatMessageSent', 2, sent('😀'.repeat(500))));
    assert.throws(() => validateEventData('ChatMessageSent', 2, sent('😀'.repeat(501))), InvalidEventError);
  });

  it('reads stored text from before the rule with U+FFFD instead of failing (tolerant reader)', () => {
    const recorded = {
      id: '55555555-5555-4555-8555-555555555555',
      type: 'ChatMessageSent',
      version: 2,
      streamName: `chat-${room.channelId}`,
      revision: 0n,
      globalPosition: 1n,
      occurredAt: new Date(),
      data: sent('old \u202etext\twith tab'),
      metadata: {},
    } as unknown as RecordedEvent;
    const e = validateRecorded(recorded);
    assert.equal((e.data as { text: string }).text, 'old \ufffdtext\ufffdwith tab');
  });
});
