import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonDepthExceeds, JsonTooDeepError, verifyJsonDepth } from './json-depth.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('jsonDepthExceeds', () => {
  it('counts nested arrays and objects', () => {
    assert.equal(jsonDepthExceeds(b('[[[]]]'), 3), false);
    assert.equal(jsonDepthExceeds(b('[[[[]]]]'), 3), true);
    assert.equal(jsonDepthExceeds(b('{"a":{"b":{"c":{}}}}'), 3), true);
    assert.equal(jsonDepthExceeds(b('{"a":[1,2],"b":{"c":[]}}'), 3), false);
  });
  it('ignores brackets inside strings, including escaped quotes', () => {
    assert.equal(jsonDepthExceeds(b(`{"text":"${'['.repeat(100)}"}`), 2), false);
    assert.equal(jsonDepthExceeds(b(`{"text":"\\"${'{'.repeat(100)}\\\\"}`), 2), false);
    assert.equal(jsonDepthExceeds(b(`{"t":"\\\\"}${'['.repeat(5)}`), 3), true);
  });
  it('handles a 20,000-deep body without recursion', () => {
    assert.equal(jsonDepthExceeds(b('['.repeat(20_000) + ']'.repeat(20_000))), true);
  });
});

describe('verifyJsonDepth', () => {
  it('throws a 400 body-parser error for a deep body and nothing for a normal one', () => {
    const verify = verifyJsonDepth(4);
    assert.doesNotThrow(() => verify({}, {}, b('{"text":"hello"}')));
    assert.throws(() => verify({}, {}, b('[[[[[1]]]]]')), (e: unknown) => e instanceof JsonTooDeepError && e.status === 400 && e.type === 'entity.too.deep');
  });
});
