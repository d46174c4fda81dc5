import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestException, NotFoundException } from '@nestjs/common';
import { DomainError } from '@eventcast/domain';
import { WrongExpectedRevisionError } from '@eventcast/event-store';
import { InvalidEventError, validateEventData } from '@eventcast/events';
import { toErrorBody } from './http-exception.filter.js';

describe('HTTP error mapping', () => {
  it('maps domain errors by code, concurrency conflicts to 409 and hides internals', () => {
    assert.deepEqual(toErrorBody(new DomainError('account_not_found', 'account does not exist')), { statusCode: 404, error: 'Not Found', message: 'account does not exist' });
    assert.equal(toErrorBody(new DomainError('username_taken', 'username is taken')).statusCode, 409);
    assert.equal(toErrorBody(new DomainError('not_live', 'the channel is not live')).statusCode, 422);
    assert.equal(toErrorBody(new WrongExpectedRevisionError('account-x', 1n, 2n)).statusCode, 409);
    assert.deepEqual(toErrorBody(new Error('connection refused at 10.0.0.5')), { statusCode: 500, error: 'Internal Server Error', message: 'internal server error' });
    assert.deepEqual(toErrorBody(new BadRequestException(['a', 'b'])), { statusCode: 400, error: 'Bad Request', message: 'a; b' });
    assert.equal(toErrorBody(new NotFoundException('Cannot GET /x')).message, 'Cannot GET /x');
    const parse = new BadRequestException('Unexpected token in "{"password":"hunter22"', { cause: new SyntaxError('x') });
    assert.deepEqual(toErrorBody(parse), { statusCode: 400, error: 'Bad Request', message: 'malformed JSON body' });
  });

  it('answers 400 invalid_request with the issues when the event schemas refuse the input (the last line of the text rule)', () => {
    let err: unknown;
    try {
      validateEventData('ChannelInfoUpdated', 1, { channelId: '00000000-0000-4000-8000-000000000001', username: 'alice', title: 'x\u0000', category: '' });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof InvalidEventError);
    const out = toErrorBody(err);
    assert.equal(out.statusCode, 400);
    assert.equal(out.code, 'invalid_request');
    assert.match(out.message, /^the request cannot be recorded: title: contains U\+0000/);
  });

  it('maps a lost or refused event-store connection to 503 (the filter adds Retry-After), other errors stay 500', () => {
    const unavailable = { statusCode: 503, error: 'Service Unavailable', message: 'the event store is unreachable; nothing was changed, retry shortly' };
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const shutdown = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    assert.deepEqual(toErrorBody(refused), unavailable);
    assert.deepEqual(toErrorBody(shutdown), unavailable);
    assert.deepEqual(toErrorBody(new Error('Connection terminated unexpectedly')), unavailable);
    assert.deepEqual(toErrorBody(new Error('command failed', { cause: refused })), unavailable);
    assert.equal(toErrorBody(Object.assign(new Error('invalid byte sequence'), { code: '22021' })).statusCode, 500);
  });
});
