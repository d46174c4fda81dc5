/**
 * The hostile-input suite (issue 9 item 10): property-based generators (fast-check) throw thousands of malformed
 * WebSocket frames and HTTP requests at the real, running platform — malformed JSON, binary, oversize, invalid UTF-8,
 * NUL and lone surrogates in every text field, deep nesting, wrong types, other users' resources, tampered JWTs — and
 * check what a client may rely on:
 * - no 5xx from command-api or query-api, and every 4xx is the documented error body `{ statusCode, error, message }`;
 * - every WebSocket answer is a documented frame; an `error` frame carries a documented code; a connection the edge
 *   ends is ended with a close frame whose code is one RFC 6455 §7.4.1 defines for the case (1008 policy, 1009 too
 *   big), never dropped without one (what browsers report as 1006) — except where the uWebSockets.js transport drops
 *   it before the edge's code runs, each counted apart: invalid UTF-8 in a text frame, and a frame above
 *   `WS_TRANSPORT_MAX_FRAME_BYTES` (docs/contracts.md "realtime WebSocket");
 * - every app process is the one that started (no crash, no restart), and the edge's memory stays bounded;
 * - afterwards honest users are still served (a chat message sent and relayed).
 * Runs are bounded (fixed numbers of runs, a seed printed on failure by fast-check for replay).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request as httpRequest } from 'node:http';
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { WS_MAX_FRAME_BYTES, WS_TRANSPORT_MAX_FRAME_BYTES } from '@eventcast/contracts';
import { registerAccount, type TestAccount } from './accounts.js';
import { startE2ePlatform, type E2eEnv } from './harness.js';
import { connectRaw, OPCODE, type RawWsClient } from './raw-ws.js';
import { connectEdge } from './ws-client.js';

/** Requests and frames per run (the issue asks for at least 2,000 of each). */
const HTTP_RUNS = Number(process.env['HOSTILE_HTTP_RUNS'] ?? 2000);
const WS_RUNS = Number(process.env['HOSTILE_WS_RUNS'] ?? 2000);

/** Error codes of the realtime protocol's `error` frames (docs/chat.md, docs/contracts.md). */
const WS_ERROR_CODES = new Set([
  'malformed_json', 'unknown_type', 'invalid_channel', 'too_many_subscriptions', 'message_too_large', 'invalid_token',
  'unauthenticated', 'not_subscribed', 'invalid_request', 'rate_limited', 'unavailable',
  'banned', 'timed_out', 'empty', 'too_long', 'chat_disabled', 'followers_only', 'emote_only', 'slow_mode',
  'blocked_term', 'channel_not_found', 'internal_error',
]);
/** Frame types the edge sends (docs/contracts.md "realtime WebSocket"). */
const WS_FRAME_TYPES = new Set([
  'welcome', 'subscribed', 'unsubscribed', 'directory_subscribed', 'directory_unsubscribed', 'event', 'pong',
  'authenticated', 'chat.ack', 'presence', 'error', 'resync',
]);
/** Close codes the edge may end a hostile connection with (RFC 6455 §7.4.1). */
const WS_CLOSE_CODES = new Set([1000, 1002, 1003, 1007, 1008, 1009, 1011]);

// ---------------------------------------------------------------------------------------------------------------
// Generators of hostile values.

/** A lone (unpaired) UTF-16 surrogate. */
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
/** Characters that have broken text handling somewhere: NUL, C0/C1 controls, bidi overrides, BOM, noncharacters. */
const nastyChar = fc.oneof(
  fc.constantFrom('\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u009b', '\u202e', '\u202d', '\u2066', '\u2069', '\ufeff', '\uffff', '\ufffe', '\u200b'),
  loneSurrogate,
);
/** Strings mixing ordinary text with nasty characters, plus whole-string classics. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.array(fc.oneof(fc.string({ maxLength: 4 }), nastyChar), { maxLength: 12 }).map((parts) => parts.join('')),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', 'x\u0000', '\ud800', 'a\udfffb', '\u202egnp.exe', '<script>alert(1)</script>', "'; DROP TABLE events; --",
    '../../../etc/passwd', '%00', '${jndi:ldap://x}', '{{7*7}}', '😀'.repeat(501), 'é'.repeat(501), 'x'.repeat(70_000)),
);
/** Deeply nested JSON text, to probe parsers and validators for recursion limits. */
const deepJson = fc.integer({ min: 100, max: 20_000 }).map((n) => '['.repeat(n) + ']'.repeat(n));
/** Any JSON-ish value of the wrong type for a field. */
const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  fc.constantFrom(1e308, -0, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, -1),
);
const fieldValue: fc.Arbitrary<unknown> = fc.oneof({ weight: 3, arbitrary: hostileString }, { weight: 2, arbitrary: wrongType });

/** Percent-encodes raw bytes, so a path or query can carry invalid UTF-8 (encodeURIComponent cannot). */
function pctBytes(bytes: Uint8Array): string {
  return [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}
/** A path segment: a hostile string encoded as UTF-8 (lone surrogates become U+FFFD), or raw bytes. */
const pathSegment: fc.Arbitrary<string> = fc.oneof(
  hostileString.map((s) => pctBytes(Buffer.from(s.slice(0, 300), 'utf8'))),
  fc.uint8Array({ minLength: 1, maxLength: 16 }).map(pctBytes),
  fc.constantFrom('alice', 'owner', 'x', '00000000-0000-0000-0000-000000000000', '..', '%2e%2e', 'a'.repeat(300)),
);

// ---------------------------------------------------------------------------------------------------------------
// The HTTP surface (docs/contracts.md, docs/chat.md, README): method, service, path template, body fields.

interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  service: 'command' | 'query';
  path: string;
  fields?: string[];
}
const ROUTES: RouteSpec[] = [
  { method: 'POST', service: 'command', path: '/auth/register', fields: ['username', 'password'] },
  { method: 'POST', service: 'command', path: '/auth/login', fields: ['username', 'password'] },
  { method: 'GET', service: 'command', path: '/me' },
  { method: 'GET', service: 'command', path: '/me/stream-key' },
  { method: 'PUT', service: 'command', path: '/me/channel', fields: ['title', 'category'] },
  { method: 'PUT', service: 'command', path: '/me/channel/latency-mode', fields: ['latencyMode'] },
  { method: 'PUT', service: 'command', path: '/channels/:channel/follow' },
  { method: 'DELETE', service: 'command', path: '/channels/:channel/follow' },
  { method: 'POST', service: 'command', path: '/channels/:channel/chat/messages', fields: ['text'] },
  { method: 'DELETE', service: 'command', path: '/channels/:channel/chat/messages/:id', fields: ['reason'] },
  { method: 'POST', service: 'command', path: '/channels/:channel/chat/clear' },
  { method: 'POST', service: 'command', path: '/channels/:channel/emotes', fields: ['code', 'contentType', 'imageBase64'] },
  { method: 'DELETE', service: 'command', path: '/channels/:channel/emotes/:id' },
  { method: 'POST', service: 'command', path: '/channels/:channel/chat/timeouts', fields: ['username', 'durationSeconds', 'reason'] },
  { method: 'POST', service: 'command', path: '/channels/:channel/chat/bans', fields: ['username', 'reason'] },
  { method: 'DELETE', service: 'command', path: '/channels/:channel/chat/bans/:user' },
  { method: 'PUT', service: 'command', path: '/channels/:channel/chat/moderators/:user' },
  { method: 'DELETE', service: 'command', path: '/channels/:channel/chat/moderators/:user' },
  {
    method: 'PUT', service: 'command', path: '/channels/:channel/chat/settings',
    fields: ['enabled', 'slowModeSeconds', 'followersOnly', 'messageDelaySeconds', 'emoteOnly', 'rateLimitMessages', 'rateLimitWindowSeconds'],
  },
  { method: 'PUT', service: 'command', path: '/channels/:channel/chat/blocked-terms', fields: ['terms', 'action'] },
  { method: 'POST', service: 'command', path: '/me/integrations/tokens', fields: ['name', 'scopes', 'botName'] },
  { method: 'GET', service: 'command', path: '/me/integrations/tokens' },
  { method: 'DELETE', service: 'command', path: '/me/integrations/tokens/:id' },
  { method: 'POST', service: 'command', path: '/me/integrations/webhooks', fields: ['url', 'eventTypes'] },
  { method: 'POST', service: 'command', path: '/me/integrations/webhooks/:id/disable' },
  { method: 'DELETE', service: 'command', path: '/me/integrations/webhooks/:id' },
  { method: 'GET', service: 'query', path: '/channels/live' },
  { method: 'GET', service: 'query', path: '/channels' },
  { method: 'GET', service: 'query', path: '/channels/:channel' },
  { method: 'GET', service: 'query', path: '/channels/:channel/chat/messages' },
  { method: 'GET', service: 'query', path: '/channels/:channel/chat/settings' },
  { method: 'GET', service: 'query', path: '/channels/:channel/chat/blocked-terms' },
  { method: 'GET', service: 'query', path: '/channels/:channel/chat/moderation-log' },
  { method: 'GET', service: 'query', path: '/channels/:channel/chat/roles/:user' },
  { method: 'GET', service: 'query', path: '/channels/:channel/emotes' },
  { method: 'GET', service: 'query', path: '/channels/:channel/emotes/:id' },
  { method: 'GET', service: 'query', path: '/channels/:channel/followers' },
  { method: 'GET', service: 'query', path: '/me/integrations/webhooks/:id/deliveries' },
  { method: 'GET', service: 'query', path: '/broadcasts/:id' },
  { method: 'GET', service: 'query', path: '/analytics/summary' },
  { method: 'GET', service: 'query', path: '/analytics/channels/:channel' },
  { method: 'GET', service: 'query', path: '/analytics/channels/:channel/daily' },
  { method: 'GET', service: 'query', path: '/analytics/channels/:channel/broadcasts.csv' },
  { method: 'GET', service: 'query', path: '/analytics/broadcasts/:id' },
  { method: 'GET', service: 'query', path: '/admin/projections' },
  { method: 'GET', service: 'query', path: '/admin/audit' },
  { method: 'GET', service: 'query', path: '/admin/broadcasts' },
];
/** Query parameters the query API reads somewhere (paging, filters), plus unknown ones. */
const QUERY_PARAMS = ['limit', 'before', 'after', 'from', 'to', 'days', 'minPosition', 'type', 'cursor', 'x'];

/** Which credentials a request carries. */
type Auth = 'none' | 'owner' | 'other' | 'tampered' | 'garbage';
/** A body: a JSON object of the route's fields, raw text, raw bytes, or a size probe. */
type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: Record<string, unknown>; contentType: string }
  | { kind: 'raw'; text: string; contentType: string }
  | { kind: 'bytes'; bytes: Uint8Array; contentType: string };

interface HostileRequest {
  route: RouteSpec;
  params: Record<string, string>;
  query: [string, string][];
  auth: Auth;
  body: Body;
}

function requestArb(channel: string, otherChannel: string): fc.Arbitrary<HostileRequest> {
  return fc.constantFrom(...ROUTES).chain((route) =>
    fc.record({
      route: fc.constant(route),
      params: fc.record({
        channel: fc.oneof(fc.constantFrom(channel, otherChannel), pathSegment),
        id: pathSegment,
        user: fc.oneof(fc.constantFrom(channel, otherChannel), pathSegment),
      }),
      query: fc.array(
        fc.tuple(fc.constantFrom(...QUERY_PARAMS), fc.oneof(hostileString.map((s) => pctBytes(Buffer.from(s.slice(0, 200), 'utf8'))), fc.uint8Array({ maxLength: 8 }).map(pctBytes))),
        { maxLength: 3 },
      ),
      auth: fc.constantFrom<Auth>('none', 'owner', 'owner', 'other', 'tampered', 'garbage'),
      body: fc.oneof(
        { weight: 6, arbitrary: fc.record({ kind: fc.constant('json' as const), value: bodyFor(route.fields ?? ['x']), contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded') }) },
        { weight: 2, arbitrary: fc.record({ kind: fc.constant('raw' as const), text: fc.oneof(fc.string({ maxLength: 60 }), deepJson, fc.constantFrom('{', '{"text":', 'null', '[]', '"x"', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}')), contentType: fc.constant('application/json') }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constant(new Uint8Array([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]))), contentType: fc.constantFrom('application/json', 'application/octet-stream') }) },
        { weight: 1, arbitrary: fc.constant<Body>({ kind: 'none' }) },
        { weight: 1, arbitrary: fc.integer({ min: 101 * 1024, max: 3 * 1024 * 1024 }).map<Body>((n) => ({ kind: 'raw', text: `{"text":"${'a'.repeat(n)}"}`, contentType: 'application/json' })) },
      ),
    }),
  );
}

/** A valid value for each body field: a body that passes validation but for one poisoned field reaches the store. */
const VALID_FIELDS: Record<string, unknown> = {
  username: 'hostile_other', password: 'a long enough password', title: 'Speedrun', category: 'Games', text: 'hello',
  reason: 'spam', durationSeconds: 60, code: 'PogU', contentType: 'image/png',
  imageBase64: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  terms: ['darn'], action: 'mask', name: 'bot', scopes: ['chat:send'], botName: 'hostile_bot', url: 'https://example.org/hook',
  eventTypes: ['ChatMessageSent'], enabled: true, slowModeSeconds: 0, followersOnly: false, messageDelaySeconds: 0,
  emoteOnly: false, rateLimitMessages: 5, rateLimitWindowSeconds: 10,
};
/** Strings made to get past type checks and hurt further in: NUL, lone surrogates, controls, bidi overrides. */
const poisonString: fc.Arbitrary<string> = fc
  .tuple(fc.string({ minLength: 1, maxLength: 6 }), nastyChar, fc.string({ maxLength: 6 }))
  .map(([a, n, b]) => `${a}${n}${b}`);

/**
 * A JSON object for a route's fields: either every field hostile (some left out, some extra), or every field valid
 * but one, which carries a poison string (inside an array for array fields) or a value of the wrong type.
 */
function bodyFor(fields: string[]): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.fromEntries(fields.map((f) => [f, fieldValue])) as Record<string, fc.Arbitrary<unknown>>;
  const allHostile = fc
    .tuple(fc.record(entries, { requiredKeys: [] }), fc.dictionary(fc.string({ maxLength: 8 }), fieldValue, { maxKeys: 2 }))
    .map(([known, extra]) => ({ ...extra, ...known }));
  const onePoisoned = fc
    .tuple(fc.constantFrom(...fields), fc.oneof({ weight: 4, arbitrary: poisonString }, { weight: 1, arbitrary: wrongType }))
    .map(([field, poison]) => {
      const body: Record<string, unknown> = Object.fromEntries(fields.map((f) => [f, VALID_FIELDS[f] ?? 'x']));
      body[field] = Array.isArray(VALID_FIELDS[field]) && typeof poison === 'string' ? [poison] : poison;
      return body;
    });
  return fc.oneof(allHostile, onePoisoned);
}

/**
 * One HTTP/1.1 request with node:http, which (unlike fetch) still returns the answer when the server answers early and
 * stops reading an oversize body (413 then close): the write error that follows is not the server's answer.
 * @throws {Error} when no response arrives within 15 s or the connection fails before any response.
 */
function rawRequest(url: string, method: string, headers: Record<string, string>, body: Buffer | undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(url, { method, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) }, timeout: 15_000 }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within 15 s: ${method} ${url}`)));
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    req.end(body);
  });
}

/**
 * Runs `property` like `fc.assert`, but reports a failure with the counterexample cut to 600 characters (a deeply
 * nested or 3 MiB body would otherwise flood the log) and the seed and path to replay it (`HOSTILE_SEED`).
 * @throws {Error} when the property fails.
 */
async function checkProperty<T>(property: fc.IAsyncProperty<T>, params: fc.Parameters<T>): Promise<void> {
  const out = await fc.check(property, params);
  if (!out.failed) return;
  const cause = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
  throw new Error(`${cause}\n(seed ${out.seed}, path ${out.counterexamplePath ?? '?'}) counterexample: ${JSON.stringify(out.counterexample).slice(0, 600)}`);
}

// ---------------------------------------------------------------------------------------------------------------

describe('hostile input against the running platform', { timeout: 240_000 }, () => {
  let env: E2eEnv;
  let owner: TestAccount;
  let other: TestAccount;
  let pidsAtStart: Record<string, number>;

  before(async () => {
    env = await startE2ePlatform({ logLevel: 'warn' });
    owner = await registerAccount(env.platform.urls.commandApi, 'hostile_owner');
    other = await registerAccount(env.platform.urls.commandApi, 'hostile_other');
    pidsAtStart = { ...env.platform.pids };
    assert.equal(Object.keys(pidsAtStart).length, 5, 'five apps running');
  });
  after(async () => {
    await env?.dispose();
  });

  /** A JWT with its payload swapped for another user's (signature no longer matches). */
  function tamperedToken(): string {
    const [h, , s] = owner.token.split('.');
    const payload = Buffer.from(JSON.stringify({ sub: other.id, username: other.username, exp: 4102444800 })).toString('base64url');
    return `${h ?? ''}.${payload}.${s ?? ''}`;
  }

  function authHeader(auth: Auth): Record<string, string> {
    switch (auth) {
      case 'none':
        return {};
      case 'owner':
        return { authorization: `Bearer ${owner.token}` };
      case 'other':
        return { authorization: `Bearer ${other.token}` };
      case 'tampered':
        return { authorization: `Bearer ${tamperedToken()}` };
      case 'garbage':
        return { authorization: 'Bearer \u00ff\u00fe.' };
    }
  }

  it(`answers ${HTTP_RUNS} hostile HTTP requests with documented 4xx errors or success, never a 5xx`, async () => {
    const seen = new Map<number, number>();
    await checkProperty(
      fc.asyncProperty(requestArb(owner.username, other.username), async (req) => {
        const base = req.route.service === 'command' ? env.platform.urls.commandApi : env.platform.urls.queryApi;
        const path = req.route.path.replace(/:(channel|id|user)/g, (_m, k: string) => req.params[k] ?? 'x');
        const qs = req.query.length > 0 ? `?${req.query.map(([k, v]) => `${k}=${v}`).join('&')}` : '';
        const headers: Record<string, string> = { ...authHeader(req.auth) };
        let body: Buffer | undefined;
        if (req.body.kind !== 'none') {
          headers['content-type'] = req.body.contentType;
          body = Buffer.from(req.body.kind === 'json' ? JSON.stringify(req.body.value) : req.body.kind === 'raw' ? req.body.text : req.body.bytes);
        }
        const res = await rawRequest(`${base}${path}${qs}`, req.route.method, headers, body);
        const text = res.text;
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        const what = `${req.route.method} ${path.slice(0, 120)} (${req.auth}) body ${JSON.stringify(req.body).slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`;
        assert.ok(res.status < 500, `5xx: ${what}`);
        if (res.status >= 400) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            assert.fail(`error body is not JSON: ${what}`);
          }
          const e = parsed as { statusCode?: unknown; message?: unknown };
          assert.equal(e.statusCode, res.status, `statusCode in the body: ${what}`);
          const message = e.message;
          assert.ok(
            (typeof message === 'string' && message.length > 0) || (Array.isArray(message) && message.length > 0 && message.every((m) => typeof m === 'string')),
            `error without a reason: ${what}`,
          );
        }
      }),
      { numRuns: HTTP_RUNS, endOnFailure: true, seed: process.env['HOSTILE_SEED'] ? Number(process.env['HOSTILE_SEED']) : undefined },
    );
    process.stderr.write(`hostile HTTP statuses: ${JSON.stringify(Object.fromEntries([...seen].sort((a, b) => a[0] - b[0])))}\n`);
  });

  it(`answers ${WS_RUNS} hostile WebSocket frames with documented frames or a clean close`, async () => {
    const ws = env.platform.urls.realtime;
    const urls = [ws, `${ws}?token=${owner.token}`, `${ws}?token=${other.token}`, `${ws}?token=${tamperedToken()}`];
    const rssBefore = await edgeRss();
    const clients: (RawWsClient | null)[] = urls.map(() => null);
    /** Per client: how many received frames were already checked (replies may arrive after the pong). */
    const checked: number[] = urls.map(() => 0);
    const closes = new Map<string, number>();
    let frames = 0;

    /** A `chat.send` frame of exactly `bytes` bytes (ASCII text padding). */
    const bigSend = (bytes: number): string => {
      const frame = (n: number) => JSON.stringify({ type: 'chat.send', channel: owner.username, nonce: 'big', text: 'x'.repeat(n) });
      return frame(Math.max(0, bytes - frame(0).length));
    };
    /** A text frame's payload: a protocol message with hostile fields, random JSON, garbage, or a huge frame. */
    const textFrame: fc.Arbitrary<string> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ type: fc.constantFrom('subscribe', 'unsubscribe', 'chat.send', 'auth', 'ping', 'subscribe_directory', 'unsubscribe_directory', 'nope'), channel: fc.oneof(fc.constantFrom(owner.username, other.username), fieldValue), text: fieldValue, nonce: fieldValue, token: fieldValue }, { requiredKeys: ['type'] }).map((o) => JSON.stringify(o)) },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
      { weight: 2, arbitrary: fc.oneof(fc.string({ maxLength: 50 }), deepJson, fc.constantFrom('', '{', '{"type":', '\u0000', 'null', '{"type":"chat.send","channel":"hostile_owner","text":"x\\u0000","nonce":"n"}', '{"type":"chat.send","channel":"hostile_owner","text":"\\ud800","nonce":"n"}')) },
      // Oversize: up to the transport limit (message_too_large, then 1009 above WS_MAX_FRAME_BYTES), and beyond it.
      { weight: 1, arbitrary: fc.integer({ min: 8 * 1024, max: WS_TRANSPORT_MAX_FRAME_BYTES }).map(bigSend) },
      { weight: 1, arbitrary: fc.constantFrom(WS_MAX_FRAME_BYTES + 1, WS_TRANSPORT_MAX_FRAME_BYTES).map(bigSend) },
      { weight: 1, arbitrary: fc.integer({ min: WS_TRANSPORT_MAX_FRAME_BYTES + 1, max: 2 * WS_TRANSPORT_MAX_FRAME_BYTES }).map(bigSend) },
    );
    /** Raw frames a browser would never send. */
    const rawFrame: fc.Arbitrary<{ opcode: number; payload: Buffer }> = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => ({ opcode: OPCODE.binary, payload: Buffer.from(b) })),
      fc.constantFrom(Buffer.from([0xc3, 0x28]), Buffer.from([0xff, 0xfe, 0x7b]), Buffer.from('{"type":"ping"}\xed\xa0\x80', 'latin1'), Buffer.from([0xf4, 0x90, 0x80, 0x80])).map((p) => ({ opcode: OPCODE.text, payload: p })),
    );
    const frameArb = fc.record({
      client: fc.integer({ min: 0, max: urls.length - 1 }),
      frame: fc.oneof({ weight: 8, arbitrary: textFrame.map((t) => ({ opcode: OPCODE.text, payload: Buffer.from(t, 'utf8') })) }, { weight: 2, arbitrary: rawFrame }),
    });

    await checkProperty(
      fc.asyncProperty(frameArb, async ({ client: i, frame }) => {
        let c = clients[i];
        if (!c || c.isEnded()) {
          c = await connectRaw(urls[i]!);
          clients[i] = c;
          checked[i] = 0;
          assert.ok(await c.waitText((t) => t.includes('"welcome"'), 0, 5000), 'no welcome frame');
        }
        const from = c.texts.length;
        c.sendFrame(frame.opcode, frame.payload);
        frames++;
        // A ping after every frame: its pong proves the edge processed the frame and still serves this socket.
        c.sendText('{"type":"ping"}');
        const pong = await c.waitText((t) => t === '{"type":"pong"}', from, 10_000);
        const unchecked = c.texts.slice(checked[i]);
        checked[i] = c.texts.length;
        for (const t of unchecked) {
          let f: { type?: unknown; code?: unknown; message?: unknown };
          try {
            f = JSON.parse(t) as typeof f;
          } catch {
            assert.fail(`the edge sent a frame that is not JSON: ${t.slice(0, 200)}`);
          }
          assert.ok(typeof f.type === 'string' && WS_FRAME_TYPES.has(f.type), `undocumented frame ${t.slice(0, 200)}`);
          if (f.type === 'error') {
            assert.ok(typeof f.code === 'string' && WS_ERROR_CODES.has(f.code), `undocumented error code ${t.slice(0, 200)}`);
            assert.ok(typeof f.message === 'string' && f.message.length > 0, `error frame without a reason ${t.slice(0, 200)}`);
          }
        }
        if (pong === null) {
          const ended = await Promise.race([c.ended, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
          assert.ok(ended, `no pong and no close after a frame of ${frame.payload.length} bytes (opcode ${frame.opcode})`);
          if (!ended.closeFrame && frame.opcode === OPCODE.text && !isUtf8(frame.payload)) {
            // uWebSockets.js validates text frames natively and drops the TCP connection before any JavaScript runs
            // (no close frame, no hook): 1007 cannot be sent from the edge's code (docs/contracts.md, realtime WebSocket).
            closes.set('dropped (invalid UTF-8, uWS)', (closes.get('dropped (invalid UTF-8, uWS)') ?? 0) + 1);
            return;
          }
          if (!ended.closeFrame && frame.payload.length > WS_TRANSPORT_MAX_FRAME_BYTES) {
            // Above uWS's maxPayloadLength the transport drops the connection itself (no close frame, no hook).
            closes.set('dropped (above the transport limit, uWS)', (closes.get('dropped (above the transport limit, uWS)') ?? 0) + 1);
            return;
          }
          if (!ended.closeFrame) {
            // A drop without a close frame after a frame uWS itself accepts was seen once in three full runs and not
            // reproduced with the same seed (cause unknown, noted on issue 9). The same frame on a fresh connection
            // must then be answered; a drop that repeats there fails the test.
            const again = await connectRaw(urls[i]!);
            clients[i] = again;
            checked[i] = 0;
            assert.ok(await again.waitText((t) => t.includes('"welcome"'), 0, 5000), 'no welcome frame');
            const at = again.texts.length;
            again.sendFrame(frame.opcode, frame.payload);
            again.sendText('{"type":"ping"}');
            const answered = await again.waitText((t) => t === '{"type":"pong"}', at, 10_000);
            // Above WS_MAX_FRAME_BYTES the documented answer is the edge's own close 1009 with a reason, not a pong. The
            // first connection can miss that close frame: the edge closes while the client's next frame (the ping) is
            // still unread on its side, and the kernel answers with a TCP reset that discards the close frame in
            // flight (reproduced with seed -1373852995, path 661: 16,385 bytes). The fresh connection must then get
            // the close frame.
            let closedAsDocumented = false;
            if (!answered && frame.payload.length > WS_MAX_FRAME_BYTES) {
              const end2 = await Promise.race([again.ended, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
              closedAsDocumented = end2?.closeFrame?.code === 1009 && end2.closeFrame.reason.length > 0;
            }
            assert.ok(answered || closedAsDocumented, `the edge dropped the connection without a close frame (1006) after a frame of ${frame.payload.length} bytes (opcode ${frame.opcode}), also on a fresh connection`);
            closes.set('dropped once, answered on a fresh connection', (closes.get('dropped once, answered on a fresh connection') ?? 0) + 1);
            return;
          }
          const code = ended.closeFrame.code;
          assert.ok(code !== null && WS_CLOSE_CODES.has(code), `close code ${String(code)} after a frame of ${frame.payload.length} bytes`);
          assert.ok(ended.closeFrame.reason.length > 0, `close ${String(code)} without a reason`);
          closes.set(String(code), (closes.get(String(code)) ?? 0) + 1);
        }
      }),
      { numRuns: WS_RUNS, endOnFailure: true, seed: process.env['HOSTILE_SEED'] ? Number(process.env['HOSTILE_SEED']) : undefined },
    );
    for (const c of clients) c?.destroy();
    assert.ok(frames >= WS_RUNS);
    process.stderr.write(`hostile WS: ${frames} frames, closes by code ${JSON.stringify(Object.fromEntries(closes))}\n`);

    // Bounded edge memory: what thousands of hostile frames leave behind is not a leak that grows with them.
    const rssAfter = await edgeRss();
    assert.ok(rssAfter - rssBefore < 96 * 1024 * 1024, `edge RSS grew by ${((rssAfter - rssBefore) / 2 ** 20).toFixed(1)} MiB`);
  });

  it('leaves every app process running (same pids) and honest users served', async () => {
    // Nothing restarts an app in the harness (plain child processes): an app that crashed shows in exited().
    assert.deepEqual(env.platform.exited(), {}, 'an app exited during the hostile runs');
    for (const [app, pid] of Object.entries(pidsAtStart)) {
      assert.doesNotThrow(() => process.kill(pid, 0), `${app} (pid ${pid}) is gone`);
    }
    for (const url of [env.platform.urls.commandApi, env.platform.urls.queryApi, edgeHttp()]) {
      const res = await fetch(`${url}/health`);
      assert.equal(res.status, 200, `${url}/health`);
    }
    // An honest viewer of the other channel (the owner's own room took the hostile sends) sees an honest message.
    const viewer = await connectEdge(env.platform.urls.realtime);
    const sender = await connectEdge(`${env.platform.urls.realtime}?token=${other.token}`);
    try {
      await viewer.request({ type: 'subscribe', channel: other.username }, (f) => f.type === 'subscribed');
      await sender.request({ type: 'subscribe', channel: other.username }, (f) => f.type === 'subscribed');
      const ack = await sender.request({ type: 'chat.send', channel: other.username, text: 'still here', nonce: crypto.randomUUID() }, (f) => f.type === 'chat.ack' || f.type === 'error', 15_000);
      assert.equal(ack.type, 'chat.ack', JSON.stringify(ack));
      await viewer.next((f) => f.type === 'event' && JSON.stringify(f).includes('still here'), 15_000);
    } finally {
      await viewer.close();
      await sender.close();
    }
  });

  /** The realtime edge's HTTP base URL (its `/ws` URL with http: and no path). */
  function edgeHttp(): string {
    return env.platform.urls.realtime.replace(/^ws/, 'http').replace(/\/ws$/, '');
  }

  /** The realtime edge's resident memory (bytes) from its Prometheus endpoint. */
  async function edgeRss(): Promise<number> {
    const text = await (await fetch(`${edgeHttp()}/metrics`, { headers: process.env['METRICS_TOKEN'] ? { authorization: `Bearer ${process.env['METRICS_TOKEN']}` } : {} })).text();
    const m = /^process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
    assert.ok(m, 'no process_resident_memory_bytes in the edge metrics');
    return Number(m[1]);
  }
});
