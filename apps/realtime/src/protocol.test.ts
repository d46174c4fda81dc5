import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelTopic, isValidChannel, parseClientMessage } from './protocol.js';

void test('parses the three client messages', () => {
  assert.deepEqual(parseClientMessage('{"type":"ping"}'), { ok: true, message: { type: 'ping' } });
  assert.deepEqual(parseClientMessage('{"type":"subscribe","channel":"alice_1"}'), {
    ok: true,
    message: { type: 'subscribe', channel: 'alice_1' },
  });
  assert.deepEqual(parseClientMessage('{"type":"unsubscribe","channel":"bob"}'), {
    ok: true,
    message: { type: 'unsubscribe', channel: 'bob' },
  });
});

void test('maps bad frames to error codes', () => {
  const code = (t: string): string | undefined => {
    const r = parseClientMessage(t);
    return r.ok ? undefined : r.code;
  };
  assert.equal(code('{nope'), 'malformed_json');
  assert.equal(code('42'), 'malformed_json');
  assert.equal(code('[]'), 'malformed_json');
  assert.equal(code('null'), 'malformed_json');
  assert.equal(code('{}'), 'unknown_type');
  assert.equal(code('{"type":"dance"}'), 'unknown_type');
  assert.equal(code('{"type":"subscribe"}'), 'invalid_channel');
  assert.equal(code('{"type":"subscribe","channel":"Alice"}'), 'invalid_channel');
  assert.equal(code('{"type":"subscribe","channel":"ab"}'), 'invalid_channel');
  assert.equal(code(JSON.stringify({ type: 'unsubscribe', channel: 'a'.repeat(25) })), 'invalid_channel');
  assert.equal(code(JSON.stringify({ type: 'subscribe', channel: '../x' })), 'invalid_channel');
});

void test('channel names and topics', () => {
  assert.ok(isValidChannel('abc'));
  assert.ok(isValidChannel('a_b_0123456789_abcdefghi'));
  assert.ok(!isValidChannel('a-b-c'));
  assert.ok(!isValidChannel(3));
  assert.equal(channelTopic('alice'), 'channel/alice');
});

void test('parses auth and chat.send; chat.send errors carry the nonce when it is valid', () => {
  assert.deepEqual(parseClientMessage('{"type":"auth","token":"t"}'), { ok: true, message: { type: 'auth', token: 't' } });
  assert.deepEqual(parseClientMessage(JSON.stringify({ type: 'chat.send', channel: 'alice', text: 'hi', nonce: 'n' })), {
    ok: true,
    message: { type: 'chat.send', channel: 'alice', text: 'hi', nonce: 'n' },
  });
  const err = (v: unknown): unknown => {
    const r = parseClientMessage(JSON.stringify(v));
    return r.ok ? undefined : [r.code, r.nonce];
  };
  assert.deepEqual(err({ type: 'chat.send', channel: 'alice', text: 'hi' }), ['invalid_request', undefined]);
  assert.deepEqual(err({ type: 'chat.send', channel: 'alice', text: 'hi', nonce: 'x'.repeat(65) }), ['invalid_request', undefined]);
  assert.deepEqual(err({ type: 'chat.send', channel: 'Alice', text: 'hi', nonce: 'n' }), ['invalid_channel', 'n']);
  assert.deepEqual(err({ type: 'chat.send', channel: 'alice', text: null, nonce: 'n' }), ['invalid_request', 'n']);
  // Only a frame with a valid nonce and channel refused for its text is a send attempt (counts toward the rate limit).
  const attempt = (v: unknown): unknown => {
    const r = parseClientMessage(JSON.stringify(v));
    return r.ok ? undefined : r.sendAttempt === true;
  };
  assert.equal(attempt({ type: 'chat.send', channel: 'alice', text: null, nonce: 'n' }), true);
  assert.equal(attempt({ type: 'chat.send', channel: 'alice', text: 'a\u0000', nonce: 'n' }), true);
  assert.equal(attempt({ type: 'chat.send', channel: 'alice', text: 'hi' }), false);
  assert.equal(attempt({ type: 'chat.send', channel: 'Alice', text: 'a\u0000', nonce: 'n' }), false);
  assert.equal(attempt({ type: 'subscribe', channel: 'Alice' }), false);
});

void test('chat.send refuses NUL, lone surrogates, C0/C1 controls and bidi overrides with a reason (issue 9), and keeps emoji and accents', () => {
  // Escaped in the JSON text, as a client would send them (a lone surrogate cannot travel as raw UTF-8).
  for (const [escaped, label] of [
    ['x\\u0000', 'U+0000'],
    ['lone \\ud800', 'U+D800'],
    ['\\udc00 trail', 'U+DC00'],
    ['abc \\u202e dcba', 'U+202E'],
    ['\\u2066isolate\\u2069', 'U+2066'],
    ['bell\\u0007', 'U+0007'],
    ['c1 \\u009b', 'U+009B'],
  ] as const) {
    const r = parseClientMessage(`{"type":"chat.send","channel":"alice","text":"${escaped}","nonce":"n1"}`);
    assert.equal(r.ok, false, escaped);
    if (r.ok) continue;
    assert.equal(r.code, 'invalid_request');
    assert.equal(r.nonce, 'n1');
    assert.ok(r.message.startsWith(`text contains ${label}`), r.message);
  }
  for (const text of ['😀👍🏽 e\u0301 naïve', 'שלום \u200f', 'f-word c++ a.b']) {
    assert.deepEqual(parseClientMessage(JSON.stringify({ type: 'chat.send', channel: 'alice', text, nonce: 'n' })), { ok: true, message: { type: 'chat.send', channel: 'alice', text, nonce: 'n' } });
  }
});
