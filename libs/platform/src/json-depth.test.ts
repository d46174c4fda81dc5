import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bodyParserClientError, jsonDepthExceeds } from './json-depth.js';

describe('jsonDepthExceeds', () => {
  it('counts nested arrays and objects, not scalars', () => {
    assert.equal(jsonDepthExceeds('x', 0), false);
    assert.equal(jsonDepthExceeds(JSON.parse('[[[]]]'), 3), false);
    assert.equal(jsonDepthExceeds(JSON.parse('[[[[]]]]'), 3), true);
    assert.equal(jsonDepthExceeds(JSON.parse('{"a":{"b":{"c":{}}}}'), 3), true);
    assert.equal(jsonDepthExceeds(JSON.parse('{"a":[1,2],"b":{"c":[]},"d":"[[[[[["}'), 3), false);
  });
  it('measures a 100,000-deep value without recursion', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
    assert.equal(jsonDepthExceeds(deep), true);
  });
});

describe('bodyParserClientError', () => {
  it('says a body-parser 4xx in words and leaves everything else alone', () => {
    assert.deepEqual(bodyParserClientError({ status: 413, type: 'entity.too.large', message: 'quoting the body' }), { status: 413, message: 'request body too large' });
    assert.deepEqual(bodyParserClientError({ status: 400, type: 'something.new' }), { status: 400, message: 'bad request' });
    assert.equal(bodyParserClientError(new Error('boom')), null);
    assert.equal(bodyParserClientError({ status: 500 }), null);
  });
});
