import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { bearer, register, startHarness, type Harness } from '../test-support/harness.js';
import { BODY_LIMIT_BYTES, DRAIN_LIMIT_BYTES } from './http-server.js';

/** What a raw request got back: status, parsed JSON body (or the text) and headers. */
async function raw(h: Harness, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${h.api.port}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed as { statusCode?: number; error?: string; message?: string }, headers: res.headers };
}

describe('the HTTP server (Fastify): bodies, errors, correlation, metrics', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  it('reads an empty JSON body as {} (validation answers, not the parser)', async () => {
    const r = await raw(h, 'POST', '/auth/register', '', { 'content-type': 'application/json' });
    assert.equal(r.status, 400);
    assert.match(r.body.message ?? '', /username.*password/);
  });

  it('refuses malformed JSON, prototype keys and other media types with a reason that never quotes the body', async () => {
    for (const text of ['{"username":"eve","password":"hunter2-secret', '{"__proto__":{"admin":true},"username":"eve","password":"hunter2-secret"}', '{"constructor":{"prototype":{"admin":true}}}']) {
      const r = await raw(h, 'POST', '/auth/register', text, { 'content-type': 'application/json' });
      assert.equal(r.status, 400, text);
      assert.deepEqual(r.body, { statusCode: 400, error: 'Bad Request', message: 'malformed JSON body' });
    }
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
      const other = await raw(h, 'POST', '/auth/register', 'username=eve&password=hunter2-secret', { 'content-type': type });
      assert.equal(other.status, 415, type);
      assert.equal(other.body.error, 'Unsupported Media Type');
      assert.match(other.body.message ?? '', /application\/json/);
      assert.doesNotMatch(JSON.stringify(other.body), /hunter2/);
    }
  });

  it(`answers 413 to a body over ${BODY_LIMIT_BYTES} bytes and keeps serving`, async () => {
    const big = JSON.stringify({ username: 'eve', password: 'x'.repeat(BODY_LIMIT_BYTES) });
    const r = await raw(h, 'POST', '/auth/register', big, { 'content-type': 'application/json' });
    assert.equal(r.status, 413);
    assert.deepEqual(r.body, { statusCode: 413, error: 'Payload Too Large', message: 'request body too large' });
    const next = await raw(h, 'GET', '/health');
    assert.equal(next.status, 200);
  });

  it('delivers the 413 of a multi-MiB upload every time: the rest is drained, never reset under the client', async () => {
    // node:http, not fetch: the answer arrives while the client is still writing (as in tests/e2e hostile.test.ts).
    const body = Buffer.from(`{"text":"${'a'.repeat(3 * 1024 * 1024)}"}`);
    const once = () =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(`http://127.0.0.1:${h.api.port}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push(await once());
    assert.deepEqual([...new Set(statuses)], [413]);
    assert.equal((await raw(h, 'GET', '/health')).status, 200);
  });

  it('stops draining an endless upload: the socket is closed after the drain limit', async () => {
    const sock = connect(h.api.port, '127.0.0.1');
    await new Promise((resolve) => sock.once('connect', resolve));
    let response = '';
    sock.on('data', (d: Buffer) => (response += d.toString('latin1')));
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    sock.on('error', () => undefined);
    sock.write('POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n');
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    let written = 0;
    let isClosed = false;
    void closed.then(() => (isClosed = true));
    while (!isClosed && written < 4 * DRAIN_LIMIT_BYTES) {
      if (!sock.write(chunk)) await new Promise((resolve) => setTimeout(resolve, 5));
      written += chunk.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    assert.ok(isClosed, `the server closed the connection (written ${written} bytes)`);
    assert.match(response, /^HTTP\/1\.1 413 /, 'after answering 413');
  });

  it('refuses a body nested deeper than the limit with 400, and a NUL in a field with the field rule', async () => {
    const deep = `{"username":${'['.repeat(5000)}${']'.repeat(5000)},"password":"long-enough-password"}`;
    const r = await raw(h, 'POST', '/auth/register', deep, { 'content-type': 'application/json' });
    assert.equal(r.status, 400);
    assert.match(r.body.message ?? '', /deeper than/);
    const nul = await raw(h, 'POST', '/auth/register', JSON.stringify({ username: 'e\u0000ve', password: 'long-enough-password' }), { 'content-type': 'application/json' });
    assert.equal(nul.status, 400);
  });

  it('answers errors Fastify raises before routing (bad percent-encoding, over-long parameter) with the API error body, CORS and a correlation id', async () => {
    const bad = await raw(h, 'GET', '/channels/%E0%A4%A/chat?token=secret-in-query', undefined, { origin: 'http://example.test' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'Bad Request');
    assert.match(bad.body.message ?? '', /malformed URL/);
    assert.doesNotMatch(JSON.stringify(bad.body), /secret-in-query|FST_/, 'neither the URL nor Fastify codes are echoed');
    assert.equal(bad.headers.get('access-control-allow-origin'), '*');
    assert.match(bad.headers.get('x-correlation-id') ?? '', /^[0-9a-f-]{36}$/);
    const long = await raw(h, 'POST', `/channels/${'a'.repeat(600)}/chat/messages`, '{}', { 'content-type': 'application/json' });
    assert.equal(long.status, 414);
    assert.deepEqual(long.body, { statusCode: 414, error: 'URI Too Long', message: 'a path segment is too long' });
    assert.ok(h.logs.some((l) => l.includes('http request') && l.includes('"status":414')), 'logged like any request');
    const next = await raw(h, 'GET', '/health');
    assert.equal(next.status, 200);
  });

  it('answers an OPTIONS that is not a CORS pre-flight with 204, as Express did', async () => {
    const r = await raw(h, 'OPTIONS', '/me');
    assert.equal(r.status, 204);
  });

  it('refuses a too-deep body with an Idempotency-Key with 400 before fingerprinting it (was a stack overflow, 500)', async () => {
    const { token } = await register(h, 'deepbody');
    const deep = `{"text":${'['.repeat(40_000)}${']'.repeat(40_000)}}`;
    const r = await raw(h, 'POST', '/channels/deepbody/chat/messages', deep, { ...bearer(token), 'content-type': 'application/json', 'idempotency-key': 'deep-1' });
    assert.equal(r.status, 400);
    assert.match(r.body.message ?? '', /deeper than/);
  });

  it('echoes a well-formed x-correlation-id, replaces a hostile one, and sets one on errors too', async () => {
    const ok = await raw(h, 'GET', '/health', undefined, { 'x-correlation-id': 'abc-123' });
    assert.equal(ok.headers.get('x-correlation-id'), 'abc-123');
    const hostile = await raw(h, 'GET', '/health', undefined, { 'x-correlation-id': 'a b\tc'.repeat(50) });
    assert.match(hostile.headers.get('x-correlation-id') ?? '', /^[0-9a-f-]{36}$/);
    const missing = await raw(h, 'GET', '/no/such/route');
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('x-correlation-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('logs one line per request, with the path but never the query string (metrics by route: health/metrics.test.ts)', async () => {
    await raw(h, 'GET', '/no/such/route?secret=1');
    const lines = h.logs.filter((l) => l.includes('http request') && l.includes('/no/such/route'));
    assert.ok(lines.length >= 1, 'a log line for the 404');
    assert.ok(lines.every((l) => l.includes('"status":404') && !l.includes('secret=1')), lines.join('\n'));
  });
});
