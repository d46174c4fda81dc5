/**
 * The error filter's bodies and log levels: a deliberate 503 (the readiness probe while a projection lags) and a
 * database that cannot be reached (503 with Retry-After) are warnings without a stack, an unexpected error is an error with its stack and a body that leaks nothing, a 4xx is not
 * logged.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { BadRequestException, ServiceUnavailableException, type ArgumentsHost } from '@nestjs/common';
import pg from 'pg';
import { pino } from 'pino';
import { freePort } from '@eventcast/launcher';
import { HttpErrorFilter } from './http-exception.filter.js';

/** Runs the filter on `exception`; returns the response written and the log lines (parsed pino JSON). */
function run(exception: unknown): { status: number; body: unknown; headers: Record<string, string>; logs: Record<string, unknown>[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const out = { status: 0, body: undefined as unknown, headers: {} as Record<string, string> };
  const res = {
    setHeader(name: string, value: string) {
      out.headers[name.toLowerCase()] = value;
    },
    status(code: number) {
      out.status = code;
      return res;
    },
    json(body: unknown) {
      out.body = body;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
  new HttpErrorFilter(logger).catch(exception, host);
  return { ...out, logs: lines.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

void describe('HttpErrorFilter', () => {
  void test('a deliberate 503 is a warning without a stack, with the reason in the body', () => {
    const r = run(new ServiceUnavailableException('not ready: projection chat-messages lags 12000 events'));
    assert.equal(r.status, 503);
    assert.deepEqual(r.body, { statusCode: 503, error: 'Service Unavailable', message: 'not ready: projection chat-messages lags 12000 events' });
    assert.equal(r.logs.length, 1);
    assert.equal(r.logs[0]!['level'], 40); // warn
    assert.equal(r.logs[0]!['err'], undefined);
  });

  void test('an unexpected error is logged as an error with its stack and answered 500 without details', () => {
    const r = run(new TypeError("cannot read properties of undefined (reading 'id')"));
    assert.equal(r.status, 500);
    assert.deepEqual(r.body, { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' });
    assert.equal(r.logs.length, 1);
    assert.equal(r.logs[0]!['level'], 50); // error
    assert.match(String((r.logs[0]!['err'] as { stack?: unknown }).stack), /reading 'id'/);
  });

  void test('a refused database connection is a 503 with Retry-After and a reason, a warning without a stack', async () => {
    // A real refusal: nothing listens on this port.
    const client = new pg.Client({ host: '127.0.0.1', port: await freePort(), user: 'postgres', database: 'postgres' });
    const refused = await client.connect().then(
      () => assert.fail('connected to a free port'),
      (err: unknown) => err,
    );
    const r = run(refused);
    assert.equal(r.status, 503);
    assert.deepEqual(r.body, { statusCode: 503, error: 'Service Unavailable', message: 'the database is unreachable right now; retry shortly' });
    assert.equal(r.headers['retry-after'], '1');
    assert.equal(r.logs.length, 1);
    assert.equal(r.logs[0]!['level'], 40); // warn
  });

  void test('a 4xx is answered with its reason and not logged', () => {
    const r = run(new BadRequestException('limit must be 1–100'));
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { statusCode: 400, error: 'Bad Request', message: 'limit must be 1–100' });
    assert.equal(r.logs.length, 0);
  });
});
