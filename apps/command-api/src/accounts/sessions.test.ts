/**
 * Sessions over HTTP (docs/contracts.md "Sessions"; issue 13 item 1): the refresh cookie's attributes, rotation,
 * reuse detection revoking the family (RFC 9700 §4.14.2), logout and "log out everywhere", Secure behind a TLS proxy,
 * CORS with credentials on /auth only, and tokens that were never issued.
 */
import assert from 'node:assert/strict';
import { parseRateLimits } from '@eventcast/contracts';
import { after, before, describe, it } from 'node:test';
import { REFRESH_COOKIE_NAME } from '@eventcast/contracts';
import { bearer, startHarness, type Harness } from '../test-support/harness.js';
import { RefreshTokens } from './refresh-tokens.js';

const PASSWORD = 'correct horse battery';

/** The Set-Cookie of the refresh cookie in a reply, parsed: value and attributes (lower-case names). */
function refreshCookie(headers: Headers): { value: string; attrs: Map<string, string> } | null {
  const line = headers.getSetCookie().find((c) => c.startsWith(`${REFRESH_COOKIE_NAME}=`));
  if (!line) return null;
  const [pair, ...rest] = line.split(';').map((p) => p.trim());
  const value = decodeURIComponent(pair!.slice(REFRESH_COOKIE_NAME.length + 1));
  const attrs = new Map(rest.map((a) => {
    const i = a.indexOf('=');
    return i < 0 ? [a.toLowerCase(), ''] : [a.slice(0, i).toLowerCase(), a.slice(i + 1)];
  }));
  return { value, attrs };
}

describe('sessions: refresh-token rotation in an HttpOnly cookie', () => {
  let h: Harness;
  let base: string;
  before(async () => {
    h = await startHarness({ TRUSTED_PROXIES: ['127.0.0.1'] });
    base = `http://127.0.0.1:${h.api.port}`;
  });
  after(async () => {
    await h.stop();
  });

  const post = (path: string, opts: { cookie?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.cookie !== undefined ? { cookie: `${REFRESH_COOKIE_NAME}=${encodeURIComponent(opts.cookie)}` } : {}),
        ...opts.headers,
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  const signUp = async (username: string) => {
    const res = await post('/auth/register', { body: { username, password: PASSWORD } });
    assert.equal(res.status, 201);
    const body = (await res.json()) as { token: string; expiresAt: string; account: { id: string } };
    const cookie = refreshCookie(res.headers);
    assert.ok(cookie, 'register sets the refresh cookie');
    return { ...body, refresh: cookie.value, cookie };
  };

  it('sign-in sets an HttpOnly, SameSite=Strict cookie (no Secure over plain HTTP) and a 15-minute access token', async () => {
    const s = await signUp('sess_a');
    assert.equal(s.cookie.attrs.has('httponly'), true);
    assert.equal(s.cookie.attrs.get('samesite'), 'Strict');
    assert.equal(s.cookie.attrs.get('path'), '/');
    assert.equal(s.cookie.attrs.has('secure'), false);
    assert.equal(Number(s.cookie.attrs.get('max-age')), 30 * 86_400);
    const ttl = Date.parse(s.expiresAt) - Date.now();
    assert.ok(ttl > 14 * 60_000 && ttl <= 15 * 60_000, `access token lives 15 min (${ttl} ms)`);
    const claims = JSON.parse(Buffer.from(s.token.split('.')[1]!, 'base64url').toString()) as { sid?: string };
    assert.equal(claims.sid, s.refresh.split('.')[0], 'the access token names its session');
    assert.equal((await h.http('GET', '/me', undefined, bearer(s.token))).status, 200);

    const login = await post('/auth/login', { body: { username: 'sess_a', password: PASSWORD } });
    assert.equal(login.status, 200);
    assert.ok(refreshCookie(login.headers)?.value, 'login starts another session');
    assert.notEqual(refreshCookie(login.headers)?.value.split('.')[0], claims.sid);
  });

  it('over TLS (a trusted proxy says so) is the Secure __Host- cookie, and only that one is read there', async () => {
    const tls = { 'x-forwarded-proto': 'https' };
    const res = await post('/auth/login', { body: { username: 'sess_a', password: PASSWORD }, headers: tls });
    assert.equal(res.status, 200);
    assert.equal(refreshCookie(res.headers), null, 'not the plain-HTTP name');
    const line = res.headers.getSetCookie().find((c) => c.startsWith('__Host-eventcast_refresh='));
    assert.ok(line, 'the __Host- cookie');
    assert.match(line, /; Secure/i);
    assert.match(line, /; Path=\//i);
    assert.doesNotMatch(line, /Domain=/i);
    const value = decodeURIComponent(/^__Host-eventcast_refresh=([^;]*)/.exec(line)![1]!);
    const ok = await fetch(`${base}/auth/refresh`, { method: 'POST', headers: { ...tls, cookie: `__Host-eventcast_refresh=${value}` } });
    assert.equal(ok.status, 200);
    const next = decodeURIComponent(/__Host-eventcast_refresh=([^;]*)/.exec(ok.headers.getSetCookie().join('\n'))![1]!);
    // a plain cookie planted by a sibling subdomain is not read over TLS
    const planted = await fetch(`${base}/auth/refresh`, { method: 'POST', headers: { ...tls, cookie: `${REFRESH_COOKIE_NAME}=${next}` } });
    assert.deepEqual([planted.status, ((await planted.json()) as { code: string }).code], [401, 'refresh_token_invalid']);
  });

  it('refresh rotates the token; the rotated-out token presented again revokes the whole session', async () => {
    const s = await signUp('sess_b');
    const r1 = await post('/auth/refresh', { cookie: s.refresh });
    assert.equal(r1.status, 200);
    const b1 = (await r1.json()) as { token: string; account: { id: string; username: string } };
    assert.deepEqual(b1.account, { id: s.account.id, username: 'sess_b' });
    assert.equal((await h.http('GET', '/me', undefined, bearer(b1.token))).status, 200);
    const t1 = refreshCookie(r1.headers)!.value;
    assert.notEqual(t1, s.refresh, 'a new refresh token');
    const r2 = await post('/auth/refresh', { cookie: t1 });
    assert.equal(r2.status, 200);
    const t2 = refreshCookie(r2.headers)!.value;

    // The token just rotated out, again within the grace: its reply was lost, so the current token is sent again.
    const lost = await post('/auth/refresh', { cookie: t1 });
    assert.equal(lost.status, 200);
    assert.equal(refreshCookie(lost.headers)!.value, t2, 'the current token again, no new rotation');
    // An attacker replays an older copy (the sign-in's token): refused, and the session is revoked…
    const replay = await post('/auth/refresh', { cookie: s.refresh });
    assert.equal(replay.status, 401);
    assert.equal(((await replay.json()) as { code: string }).code, 'refresh_token_reused');
    assert.equal(Number(refreshCookie(replay.headers)?.attrs.get('max-age') ?? '0') <= 0 || refreshCookie(replay.headers)?.attrs.has('expires'), true, 'the cookie is cleared');
    // …so the legitimate holder's current token is refused too.
    const current = await post('/auth/refresh', { cookie: t2 });
    assert.equal(current.status, 401);
    assert.equal(((await current.json()) as { code: string }).code, 'session_ended');
    const ended = (await h.allEvents()).filter((e) => e.type === 'SessionEnded' && (e.data as { sessionId: string }).sessionId === s.refresh.split('.')[0]);
    assert.deepEqual(ended.map((e) => (e.data as { reason: string }).reason), ['refresh_token_reused']);
  });

  it('two refreshes racing with one token: one rotates, the other gets the same new token (grace), one event', async () => {
    const s = await signUp('sess_c');
    const [a, b] = await Promise.all([post('/auth/refresh', { cookie: s.refresh }), post('/auth/refresh', { cookie: s.refresh })]);
    assert.deepEqual([a.status, b.status], [200, 200]);
    assert.equal(refreshCookie(a.headers)!.value, refreshCookie(b.headers)!.value);
    const sid = s.refresh.split('.')[0];
    const rotations = (await h.allEvents()).filter((e) => e.type === 'SessionRefreshed' && (e.data as { sessionId: string }).sessionId === sid);
    assert.equal(rotations.length, 1);
  });

  it('logout ends the session at once; logout without a session is 204 too', async () => {
    const s = await signUp('sess_d');
    const out = await post('/auth/logout', { cookie: s.refresh });
    assert.equal(out.status, 204);
    assert.ok(refreshCookie(out.headers), 'clears the cookie');
    const r = await post('/auth/refresh', { cookie: s.refresh });
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as { code: string }).code, 'session_ended');
    assert.equal((await post('/auth/logout')).status, 204);
    assert.equal((await post('/auth/logout', { cookie: 'garbage' })).status, 204);
  });

  it('"log out everywhere" ends every session of the account, and only of that account', async () => {
    const s1 = await signUp('sess_e');
    const login = await post('/auth/login', { body: { username: 'sess_e', password: PASSWORD } });
    const s2 = refreshCookie(login.headers)!.value;
    const other = await signUp('sess_f');
    assert.equal((await post('/auth/logout-all')).status, 401, 'needs the access token');
    assert.equal((await post('/auth/logout-all', { headers: bearer(s1.token) })).status, 204);
    for (const t of [s1.refresh, s2]) {
      const r = await post('/auth/refresh', { cookie: t });
      assert.equal(r.status, 401);
      assert.equal(((await r.json()) as { code: string }).code, 'session_revoked');
    }
    assert.equal((await post('/auth/refresh', { cookie: other.refresh })).status, 200, "another account's session goes on");
    const again = await post('/auth/login', { body: { username: 'sess_e', password: PASSWORD } });
    assert.equal((await post('/auth/refresh', { cookie: refreshCookie(again.headers)!.value })).status, 200, 'a later sign-in works');
  });

  it('changing the password needs the current one, ends every other session and signs this client in again', async () => {
    const s1 = await signUp('sess_h');
    const other = await post('/auth/login', { body: { username: 'sess_h', password: PASSWORD } });
    let otherToken = refreshCookie(other.headers)!.value;
    const change = (token: string, body: unknown) => post('/auth/password', { body, headers: bearer(token) });
    const wrong = await change(s1.token, { currentPassword: 'not the password', newPassword: 'a brand new password' });
    assert.equal(wrong.status, 403);
    assert.deepEqual(await wrong.json(), { statusCode: 403, error: 'Forbidden', message: 'the current password is wrong', code: 'wrong_password' });
    const stillThere = await post('/auth/refresh', { cookie: otherToken });
    assert.equal(stillThere.status, 200, 'a refused change ends nothing');
    otherToken = refreshCookie(stillThere.headers)!.value;
    const short = await change(s1.token, { currentPassword: PASSWORD, newPassword: 'short' });
    assert.equal(short.status, 400);
    assert.equal((await post('/auth/password', { body: { currentPassword: PASSWORD, newPassword: 'a brand new password' } })).status, 401, 'needs the access token');

    const ok = await change(s1.token, { currentPassword: PASSWORD, newPassword: 'a brand new password' });
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { token: string; account: { username: string } };
    assert.equal(body.account.username, 'sess_h');
    const fresh = refreshCookie(ok.headers)!.value;
    assert.equal((await post('/auth/refresh', { cookie: fresh })).status, 200, "the caller's new session works");
    for (const t of [s1.refresh, otherToken]) {
      const r = await post('/auth/refresh', { cookie: t });
      assert.deepEqual([r.status, ((await r.json()) as { code: string }).code], [401, 'session_revoked'], 'every earlier session ends');
    }
    assert.equal((await post('/auth/login', { body: { username: 'sess_h', password: PASSWORD } })).status, 401, 'the old password is refused');
    assert.equal((await post('/auth/login', { body: { username: 'sess_h', password: 'a brand new password' } })).status, 200);
    const stored = JSON.stringify(await h.allEvents());
    assert.ok(!stored.includes('a brand new password'), 'no plaintext password in the log');
  });

  it('refuses tokens this platform never issued: no cookie, garbage, a forged MAC, a future counter, an over-long value', async () => {
    const s = await signUp('sess_g');
    const [sid, , mac] = s.refresh.split('.');
    const foreign = new RefreshTokens('another-secret-another-secret-0123').issue(sid!, 0);
    const future = new RefreshTokens(h.config.JWT_SECRET).issue(sid!, 5);
    const cases: [string | undefined, string][] = [
      [undefined, 'refresh_token_invalid'],
      ['garbage', 'refresh_token_invalid'],
      [`${sid}.0.${mac!.slice(0, -1)}A`, 'refresh_token_invalid'],
      [foreign, 'refresh_token_invalid'],
      [`${sid}.1.${mac}`, 'refresh_token_invalid'],
      [future, 'refresh_token_invalid'],
      [`${s.refresh}\u0000`, 'refresh_token_invalid'],
      ['x'.repeat(3000), 'refresh_token_invalid'],
      [new RefreshTokens(h.config.JWT_SECRET).issue('00000000-0000-4000-8000-000000000000', 0), 'session_not_found'],
    ];
    for (const [cookie, code] of cases) {
      const r = await post('/auth/refresh', { cookie });
      assert.equal(r.status, 401, `${cookie?.slice(0, 40)}`);
      assert.equal(((await r.json()) as { code: string }).code, code, `${cookie?.slice(0, 40)}`);
      // a refused cookie is cleared; a request without one clears nothing (a login elsewhere may just have set it)
      assert.equal(refreshCookie(r.headers) !== null, cookie !== undefined, `${cookie?.slice(0, 40)}: cleared only when sent`);
    }
    assert.equal((await post('/auth/refresh', { cookie: s.refresh })).status, 200, 'none of them harmed the real session');
  });

  it('answers /auth/* with credentials only for pages of the same host (no CORS_ORIGINS), other routes for any origin', async () => {
    const origin = 'http://127.0.0.1:3000';
    const pre = await fetch(`${base}/auth/refresh`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    assert.equal(pre.headers.get('access-control-allow-origin'), origin);
    assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
    for (const other of ['http://evil.example', 'http://127.0.0.1.evil.example:3000', 'null']) {
      const r = await fetch(`${base}/auth/refresh`, { method: 'OPTIONS', headers: { origin: other, 'access-control-request-method': 'POST' } });
      assert.equal(r.headers.get('access-control-allow-origin'), null, other);
    }
    const me = await fetch(`${base}/me`, { headers: { origin } });
    assert.equal(me.headers.get('access-control-allow-origin'), '*');
    assert.equal(me.headers.get('access-control-allow-credentials'), null);
  });
});

describe('sessions: CORS_ORIGINS limits who may call /auth/* with credentials', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ CORS_ORIGINS: ['https://eventcast.example'] });
  });
  after(async () => {
    await h.stop();
  });
  it('a listed origin is answered; another gets no CORS headers', async () => {
    const base = `http://127.0.0.1:${h.api.port}`;
    const ask = (origin: string) => fetch(`${base}/auth/refresh`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    assert.equal((await ask('https://eventcast.example')).headers.get('access-control-allow-origin'), 'https://eventcast.example');
    assert.equal((await ask('https://evil.example')).headers.get('access-control-allow-origin'), null);
  });
});

describe('sessions: the sign-in budget counts passwords, not refreshes', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ RATE_LIMITS: parseRateLimits('auth=2/1m, api=100000/1m') });
  });
  after(async () => {
    await h.stop();
  });
  it('refresh and logout stay open after the budget of register/login is spent', async () => {
    const base = `http://127.0.0.1:${h.api.port}`;
    const reg = await fetch(`${base}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'budget_a', password: PASSWORD }) });
    assert.equal(reg.status, 201);
    let cookie = refreshCookie(reg.headers)!.value;
    const login = () => fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'budget_a', password: PASSWORD }) });
    assert.equal((await login()).status, 200);
    assert.equal((await login()).status, 429, 'the third password attempt within the minute is refused');
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${base}/auth/refresh`, { method: 'POST', headers: { cookie: `${REFRESH_COOKIE_NAME}=${cookie}` } });
      assert.equal(r.status, 200, `refresh ${i + 1}`);
      cookie = refreshCookie(r.headers)!.value;
    }
    assert.equal((await fetch(`${base}/auth/logout`, { method: 'POST', headers: { cookie: `${REFRESH_COOKIE_NAME}=${cookie}` } })).status, 204);
  });
});
