import assert from 'node:assert/strict';
import { parseRateLimits } from '@eventcast/contracts';
import { authThrottledMessage, type StreamKeyReply } from '@eventcast/contracts';
import { after, before, describe, it } from 'node:test';
import { rtmpsEnabledFromEnv } from '../core/config.js';
import { bearer, register, startHarness, type Harness } from '../test-support/harness.js';

const PASSWORD = 'correct horse battery';

describe('accounts over HTTP', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  it('registers (lower-casing the name), logs in and reads /me', async () => {
    const reg = await h.http<{ token: string; account: { id: string; username: string } }>('POST', '/auth/register', { username: 'Alice_1', password: PASSWORD });
    assert.equal(reg.status, 201);
    assert.equal(reg.body.account.username, 'alice_1');
    assert.match(reg.body.account.id, /^[0-9a-f-]{36}$/);
    const [, payload] = reg.body.token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as { sub: string; username: string; exp: number; iat: number };
    assert.equal(claims.sub, reg.body.account.id);
    assert.equal(claims.username, 'alice_1');
    assert.equal(claims.exp - claims.iat, 15 * 60, "a short-lived access token (15 min by default)");

    const login = await h.http<{ token: string; account: { id: string } }>('POST', '/auth/login', { username: 'ALICE_1', password: PASSWORD });
    assert.equal(login.status, 200);
    assert.equal(login.body.account.id, reg.body.account.id);

    const me = await h.http('GET', '/me', undefined, bearer(login.body.token));
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, { id: reg.body.account.id, username: 'alice_1', title: '', category: '', admin: false });
    const admins = process.env['EVENTCAST_ADMINS'];
    process.env['EVENTCAST_ADMINS'] = 'someone, ALICE_1';
    try {
      const asAdmin = await h.http('GET', '/me', undefined, bearer(login.body.token));
      assert.equal(asAdmin.body['admin'], true, 'listed in EVENTCAST_ADMINS (case-insensitive)');
    } finally {
      if (admins === undefined) delete process.env['EVENTCAST_ADMINS'];
      else process.env['EVENTCAST_ADMINS'] = admins;
    }
  });

  it('refuses bad credentials with one message, unknown user or wrong password alike', async () => {
    await register(h, 'bob');
    for (const body of [{ username: 'bob', password: 'wrong password' }, { username: 'nobody', password: PASSWORD }]) {
      const r = await h.http('POST', '/auth/login', body);
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, { statusCode: 401, error: 'Unauthorized', message: 'invalid username or password' });
    }
  });

  it('refuses a name the platform keeps for its pages (e.g. admin) with 409 and a reason, storing nothing', async () => {
    const r = await h.http('POST', '/auth/register', { username: 'Admin', password: PASSWORD });
    assert.equal(r.status, 409);
    assert.deepEqual(r.body, { statusCode: 409, error: 'Conflict', message: 'username "admin" is reserved by the platform' });
    const login = await h.http('POST', '/auth/login', { username: 'admin', password: PASSWORD });
    assert.equal(login.status, 401);
  });

  it('refuses a taken username (case-insensitively) with 409', async () => {
    await register(h, 'carol');
    const r = await h.http('POST', '/auth/register', { username: 'CAROL', password: PASSWORD });
    assert.equal(r.status, 409);
    assert.deepEqual(r.body, { statusCode: 409, error: 'Conflict', message: 'username is taken' });
  });

  it('lets exactly one of two concurrent registrations of a name win', async () => {
    const body = { username: 'racer', password: PASSWORD };
    const replies = await Promise.all([h.http('POST', '/auth/register', body), h.http('POST', '/auth/register', body)]);
    assert.deepEqual(replies.map((r) => r.status).sort(), [201, 409]);
    const claims = (await h.allEvents()).filter((e) => e.type === 'UsernameClaimed' && e.streamName === 'username-racer');
    assert.equal(claims.length, 1);
  });

  it('answers 400 with the reasons for invalid bodies', async () => {
    const cases: [unknown, RegExp][] = [
      [{ username: 'ab', password: PASSWORD }, /username must be 3 to 24 characters/],
      [{ username: 'bad name!', password: PASSWORD }, /only a-z, 0-9 and _/],
      [{ username: 'x'.repeat(25), password: PASSWORD }, /3 to 24/],
      [{ username: 'dave', password: 'short' }, /password must be 8 to 128 characters/],
      [{ username: 'dave', password: 'p'.repeat(129) }, /password must be 8 to 128/],
      [{ username: 'dave', password: PASSWORD, admin: true }, /property admin should not exist/],
      [{ username: 42, password: PASSWORD }, /username must be a string/],
      [{}, /username.*; .*password/],
    ];
    for (const [body, reason] of cases) {
      const r = await h.http<{ statusCode: number; error: string; message: string }>('POST', '/auth/register', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error, 'Bad Request');
      assert.match(r.body.message, reason);
    }
    const malformed = await h.http('POST', '/auth/register', '{"username":"dave","password":"secret-in-broken-json', {});
    assert.equal(malformed.status, 400);
    assert.deepEqual(malformed.body, { statusCode: 400, error: 'Bad Request', message: 'malformed JSON body' });
    const r = await h.http('GET', '/me', undefined, {});
    assert.equal(r.status, 401);
    assert.equal((await h.allEvents()).filter((e) => JSON.stringify(e.data).includes('dave')).length, 0, 'bad input changes nothing');
  });

  it('shows the stream key to its owner only, and rotates it', async () => {
    const { token, id } = await register(h, 'erin');
    assert.equal((await h.http('GET', '/me/stream-key')).status, 401);
    assert.equal((await h.http('GET', '/me/stream-key', undefined, bearer('not.a.token'))).status, 401);
    assert.equal((await h.http('POST', '/me/stream-key/rotate')).status, 401);

    const key = await h.http<{ streamKey: string; rtmpUrl: string; issuedAt: string }>('GET', '/me/stream-key', undefined, bearer(token));
    assert.equal(key.status, 200);
    assert.match(key.body.streamKey, new RegExp(`^ec_${id.replace(/-/g, '')}_[A-Za-z0-9_-]{43}$`));
    assert.equal(key.body.rtmpUrl, 'rtmp://127.0.0.1:1935/live');
    assert.equal((key.body as { rtmpsUrl?: string | null }).rtmpsUrl, null, 'RTMPS is off: no certificate, no RTMPS_PUBLIC_URL');
    assert.ok(!Number.isNaN(Date.parse(key.body.issuedAt)));

    const rotated = await h.http<{ streamKey: string; issuedAt: string }>('POST', '/me/stream-key/rotate', undefined, bearer(token));
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.streamKey, key.body.streamKey);
    const again = await h.http<{ streamKey: string; issuedAt: string }>('GET', '/me/stream-key', undefined, bearer(token));
    assert.equal(again.body.streamKey, rotated.body.streamKey);
    assert.equal(again.body.issuedAt, rotated.body.issuedAt);
  });

  it('updates channel info and validates it', async () => {
    const { token } = await register(h, 'frank');
    const r = await h.http('PUT', '/me/channel', { title: 'Speedruns' }, bearer(token));
    assert.deepEqual([r.status, r.body], [200, { title: 'Speedruns', category: '' }]);
    const r2 = await h.http('PUT', '/me/channel', { category: 'Games' }, bearer(token));
    assert.deepEqual(r2.body, { title: 'Speedruns', category: 'Games' });
    const bad = await h.http<{ message: string }>('PUT', '/me/channel', { title: 't'.repeat(141), extra: 1 }, bearer(token));
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /title must be at most 140 characters/);
    assert.match(bad.body.message, /property extra should not exist/);
    assert.equal((await h.http('PUT', '/me/channel', { title: 'x' })).status, 401);
    const me = await h.http('GET', '/me', undefined, bearer(token));
    assert.deepEqual([me.body['title'], me.body['category']], ['Speedruns', 'Games']);
  });

  it('carries the correlation id into event metadata and logs, with the actor', async () => {
    const r = await h.http<{ account: { id: string } }>('POST', '/auth/register', { username: 'grace', password: PASSWORD }, { 'x-correlation-id': 'corr-grace-1' });
    assert.equal(r.headers.get('x-correlation-id'), 'corr-grace-1');
    const events = (await h.allEvents()).filter((e) => e.metadata.correlationId === 'corr-grace-1');
    assert.deepEqual(events.map((e) => e.type).sort(), ['AccountRegistered', 'SessionStarted', 'StreamKeyIssued', 'UsernameClaimed']);
    assert.ok(events.every((e) => e.metadata.actorId === r.body.account.id));
    assert.ok(h.logs.some((l) => l.includes('corr-grace-1')));
    const generated = await h.http('GET', '/health');
    assert.match(generated.headers.get('x-correlation-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('never stores or logs a password or a plaintext stream key', async () => {
    const password = 'unique-password-4c1d9e';
    const { token } = await register(h, 'heidi', password);
    const keys = [(await h.http<{ streamKey: string }>('GET', '/me/stream-key', undefined, bearer(token))).body.streamKey];
    keys.push((await h.http<{ streamKey: string }>('POST', '/me/stream-key/rotate', undefined, bearer(token))).body.streamKey);
    const login = await h.http('POST', '/auth/login', { username: 'heidi', password });
    await h.http('POST', '/auth/login', { username: 'heidi', password: `${password}x` });
    // session tokens: the refresh token (cookie) and its MAC, before and after a rotation, and the access token
    const refresh = /eventcast_refresh=([^;]+)/.exec(login.headers.getSetCookie().join('\n'))?.[1] ?? '';
    assert.ok(refresh, 'login set the refresh cookie');
    const rotated = await fetch(`http://127.0.0.1:${h.api.port}/auth/refresh`, { method: 'POST', headers: { cookie: `eventcast_refresh=${refresh}` } });
    const next = /eventcast_refresh=([^;]+)/.exec(rotated.headers.getSetCookie().join('\n'))?.[1] ?? '';
    const tokens = [refresh, decodeURIComponent(refresh).split('.')[2]!, next, decodeURIComponent(next).split('.')[2]!, String(login.body['token'])];
    const stored = JSON.stringify(await h.allEvents());
    const logs = h.logs.join('\n');
    for (const secret of [password, ...keys, ...tokens]) {
      assert.ok(!stored.includes(secret), 'secret in an event');
      assert.ok(!logs.includes(secret), 'secret in a log line');
    }
    assert.ok(stored.includes('$argon2id$'), 'the password hash is stored');
  });

  it('serves health, readiness and the OpenAPI document', async () => {
    assert.deepEqual((await h.http('GET', '/health')).body, { status: 'ok' });
    const ready = await h.http('GET', '/ready');
    assert.deepEqual([ready.status, ready.body], [200, { status: 'ready', checks: { postgres: 'up', nats: 'connected' } }]);
    const doc = await h.http<{ paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown> } }>('GET', '/docs-json');
    assert.equal(doc.status, 200);
    for (const p of ['/auth/register', '/auth/login', '/me', '/me/stream-key', '/me/stream-key/rotate', '/me/channel']) assert.ok(doc.body.paths[p], p);
    assert.ok(doc.body.components.securitySchemes['bearer']);
    const ui = await fetch(`http://127.0.0.1:${h.api.port}/docs`);
    assert.equal(ui.status, 200);
  });

  it('allows CORS from any origin', async () => {
    const res = await fetch(`http://127.0.0.1:${h.api.port}/me`, {
      method: 'OPTIONS',
      headers: { origin: 'http://example.test', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.ok(res.status < 300);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    // The dashboard's PUT (channel settings) and DELETE (tokens, emotes) pre-flights too, not only GET/POST.
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const pre = await fetch(`http://127.0.0.1:${h.api.port}/me/channel`, {
        method: 'OPTIONS',
        headers: { origin: 'http://example.test', 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' },
      });
      assert.ok(pre.status < 300, `${method} pre-flight: ${pre.status}`);
      assert.match(pre.headers.get('access-control-allow-methods') ?? '', new RegExp(`\\b${method}\\b`), `${method} allowed`);
    }
  });
});

describe('auth rate limit behind a trusted proxy (TRUSTED_PROXIES)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ RATE_LIMITS: parseRateLimits('auth=2/1m, api=100000/1m'), TRUSTED_PROXIES: ['127.0.0.1', '::1'] });
  });
  after(async () => {
    await h.stop();
  });

  it('gives every client behind the proxy its own budget, keyed on the first untrusted X-Forwarded-For hop', async () => {
    const login = (xff: string) => h.http('POST', '/auth/login', { username: 'x', password: 'yyyyyyyy' }, { 'x-forwarded-for': xff });
    const a = [await login('198.51.100.1'), await login('198.51.100.1'), await login('198.51.100.1')].map((r) => r.status);
    assert.deepEqual(a, [401, 401, 429], 'client A spends its budget');
    assert.equal((await login('198.51.100.2')).status, 401, 'client B behind the same proxy still has its own');
    // A client that prepends a fake address to the header is still keyed on the address the proxy appended.
    assert.equal((await login('6.6.6.6, 198.51.100.1')).status, 429, 'spoofed left part ignored');
  });
});

describe('auth rate limit', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ RATE_LIMITS: parseRateLimits('auth=3/1m, api=100000/1m') });
  });
  after(async () => {
    await h.stop();
  });

  it('answers 429 after the per-IP limit of login/register attempts', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await h.http('POST', '/auth/login', { username: 'x', password: 'yyyyyyyy' })).status);
    assert.deepEqual(statuses, [401, 401, 401, 429]);
    const r = await h.http('POST', '/auth/register', { username: 'late', password: PASSWORD });
    assert.equal(r.status, 429);
    assert.equal(r.body['statusCode'], 429);
    // The standard header (RFC 9110 §10.2.3), not @nestjs/throttler's `Retry-After-<name>`, and a sentence.
    const retryAfter = Number(r.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${r.headers.get('retry-after')}`);
    assert.equal(r.headers.get('retry-after-auth'), null);
    assert.equal(r.body['message'], authThrottledMessage(3, retryAfter));
    assert.match(String(r.body['message']), /^Too many sign-in and sign-up attempts from your network: 3 per minute are allowed\. Try again in \d+ seconds?\.$/);
    assert.equal((await h.http('GET', '/health')).status, 200);
  });

  it('keys the limit on the socket peer without TRUSTED_PROXIES: a client cannot dodge it with X-Forwarded-For', async () => {
    // The first test spent this address's budget; a forged header does not make a new client.
    const r = await h.http('POST', '/auth/login', { username: 'x', password: 'yyyyyyyy' }, { 'x-forwarded-for': '198.51.100.77' });
    assert.equal(r.status, 429);
  });

  it('shows the RTMPS URL only when RTMPS is on (INGEST_TLS_CERT_FILE or RTMPS_PUBLIC_URL)', async () => {
    assert.equal(rtmpsEnabledFromEnv({}), false);
    assert.equal(rtmpsEnabledFromEnv({ INGEST_TLS_CERT_FILE: ' ' }), false);
    assert.equal(rtmpsEnabledFromEnv({ INGEST_TLS_CERT_FILE: '/etc/eventcast/tls/cert.pem' }), true);
    assert.equal(rtmpsEnabledFromEnv({ RTMPS_PUBLIC_URL: 'rtmps://live.example.org/live' }), true);
    const on = await startHarness({ RTMPS_ENABLED: true });
    try {
      const { token } = await register(on, 'rtmps_on');
      const key = await on.http<StreamKeyReply>('GET', '/me/stream-key', undefined, bearer(token));
      assert.equal(key.body.rtmpsUrl, 'rtmps://127.0.0.1:1936/live');
    } finally {
      await on.stop();
    }
    const pub = await startHarness({ RTMPS_PUBLIC_URL: 'rtmps://live.example.org/live' });
    try {
      const { token } = await register(pub, 'rtmps_pub');
      const key = await pub.http<StreamKeyReply>('POST', '/me/stream-key/rotate', undefined, bearer(token));
      assert.equal(key.body.rtmpsUrl, 'rtmps://live.example.org/live');
    } finally {
      await pub.stop();
    }
  });
});
