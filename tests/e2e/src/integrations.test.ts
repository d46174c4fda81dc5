/**
 * Integrations through the whole platform (issue 4 part 5): scoped API tokens used across command-api and query-api,
 * and outgoing webhooks delivered by query-api's dispatcher to a real local HTTP receiver — signed per the Standard
 * Webhooks spec (checked here with node:crypto, independently of the library that signs), retried with backoff until a
 * flaky receiver answers, filtered per event type, and logged in the delivery log.
 */
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { openPageAs, registerAccount, type TestAccount } from './accounts.js';
import { eventually, launchChromium, startE2ePlatform, type E2eEnv } from './harness.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * Standard Webhooks verification (spec "Verifying webhook authenticity"): the signed content is
 * `${webhook-id}.${webhook-timestamp}.${body}`, HMAC-SHA256 keyed with the base64-decoded part of `whsec_…`, sent as
 * space-separated `v1,<base64>` entries; the timestamp must be within a tolerance (5 minutes) of now.
 */
function verifyStandardWebhook(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const id = String(headers['webhook-id'] ?? '');
  const timestamp = String(headers['webhook-timestamp'] ?? '');
  const signatures = String(headers['webhook-signature'] ?? '').split(' ');
  if (!id || !/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.some((s) => {
    const [version, sig] = s.split(',');
    if (version !== 'v1' || !sig) return false;
    const given = Buffer.from(sig, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

describe('integrations end to end: API tokens and webhooks', () => {
  let env: E2eEnv;
  let receiver: Server;
  let hookBase: string;
  const received: Received[] = [];
  const run = Date.now().toString(36).slice(-5);
  let alice: TestAccount;
  let bob: TestAccount;
  let browser: Browser | undefined;

  async function call(base: string, method: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }
  const command = (method: string, path: string, token: string | null, body?: unknown) => call(env.platform.urls.commandApi, method, path, token, body);
  const query = (method: string, path: string, token: string | null) => call(env.platform.urls.queryApi, method, path, token);

  const register = (username: string) => registerAccount(env.platform.urls.commandApi, username);

  async function createWebhook(path: string, eventTypes: string[]): Promise<{ id: string; secret: string }> {
    const r = await command('POST', '/me/integrations/webhooks', alice.token, { url: `${hookBase}${path}`, eventTypes });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return { id: String(r.json['id']), secret: String(r.json['secret']) };
  }

  const at = (path: string) => received.filter((r) => r.path === path);

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
        if (path.startsWith('/flaky')) {
          // Per delivery the flaky receiver fails twice — a 500, then a dropped connection — then accepts.
          const id = String(req.headers['webhook-id']);
          const tries = received.filter((r) => r.path === path && r.headers['webhook-id'] === id).length;
          if (tries === 1) {
            res.writeHead(500).end('try again');
            return;
          }
          if (tries === 2) {
            req.socket.destroy();
            return;
          }
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    hookBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    env = await startE2ePlatform({
      logLevel: 'info',
      env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_RETRY_DELAY_SECONDS: '1', WEBHOOK_POLL_SECONDS: '0.5', WEBHOOK_MAX_ATTEMPTS: '5', WEBHOOK_TIMEOUT_MS: '3000' },
    });
    alice = await register(`int_alice_${run}`);
    bob = await register(`int_bob_${run}`);
  });

  after(async () => {
    await browser?.close();
    await env?.dispose();
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  });

  it('a chat:send + chat:read token posts as the bot, reads history on query-api, and stops working once revoked', async () => {
    const created = await command('POST', '/me/integrations/tokens', alice.token, { name: 'chat tool', scopes: ['chat:send', 'chat:read'], botName: 'alice_bot' });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const token = String(created.json['token']);
    assert.match(token, /^ect_/);
    const sendOnly = String((await command('POST', '/me/integrations/tokens', alice.token, { name: 'send only', scopes: ['chat:send'] })).json['token']);

    const sent = await command('POST', `/channels/${alice.username}/chat/messages`, token, { text: 'hello from the bot' });
    assert.equal(sent.status, 201, JSON.stringify(sent.json));

    const history = await eventually('the bot message in chat history (read with the chat:read token)', async () => {
      const r = await query('GET', `/channels/${alice.username}/chat/messages`, token);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const messages = r.json['messages'] as { id: string; text: string; senderName: string; senderRole: string; bot: { name: string } | null }[];
      return messages.find((m) => m.id === sent.json['messageId']);
    });
    assert.equal(history.text, 'hello from the bot');
    assert.equal(history.senderRole, 'owner');
    assert.deepEqual(history.bot, { name: 'alice_bot' }, 'history carries the bot badge');

    const noScope = await eventually('the send-only token to be projected', async () => {
      const r = await query('GET', `/channels/${alice.username}/chat/messages`, sendOnly);
      return r.status === 401 ? null : r;
    });
    assert.equal(noScope.status, 403);
    assert.match(String(noScope.json['message']), /lacks the scope "chat:read"/);
    assert.equal((await query('GET', `/channels/${bob.username}/chat/messages`, token)).status, 403, "another channel's history with this token");
    assert.equal((await query('GET', `/channels/${alice.username}/chat/messages`, `${token.slice(0, -3)}xyz`)).status, 401);
    assert.equal((await query('GET', `/channels/${alice.username}/chat/messages`, null)).status, 200, 'history stays public');

    const revoked = await command('DELETE', `/me/integrations/tokens/${String(created.json['id'])}`, alice.token);
    assert.equal(revoked.status, 200);
    assert.equal((await command('POST', `/channels/${alice.username}/chat/messages`, token, { text: 'too late' })).status, 401, 'command side: revoked at once');
    await eventually('query side to refuse the revoked token', async () => (await query('GET', `/channels/${alice.username}/chat/messages`, token)).status === 401, 5_000);
  });

  it('refuses webhook URLs that are not http(s) with a reason', async () => {
    for (const url of ['file:///etc/passwd', 'gopher://example.org/', 'nope']) {
      const r = await command('POST', '/me/integrations/webhooks', alice.token, { url, eventTypes: ['ChatMessageSent'] });
      assert.equal(r.status, 400, url);
      assert.match(String(r.json['message']), /url must/);
    }
  });

  it('delivers signed events per subscription, retries a flaky receiver with backoff, and logs every attempt', async () => {
    const chatHook = await createWebhook('/chat', ['ChatMessageSent']);
    const flakyHook = await createWebhook('/flaky', ['ChatMessageSent', 'ChannelFollowed']);
    const liveHook = await createWebhook('/live', ['BroadcastStarted', 'BroadcastEnded']);

    const sent = await command('POST', `/channels/${alice.username}/chat/messages`, alice.token, { text: 'webhooks, assemble' });
    assert.equal(sent.status, 201, JSON.stringify(sent.json));

    // Signed delivery to the healthy receiver, verifiable with the spec's algorithm and this webhook's secret only.
    const first = await eventually('the chat webhook delivery', () => Promise.resolve(at('/chat')[0]), 20_000);
    assert.equal(first.headers['content-type'], 'application/json');
    assert.equal(verifyStandardWebhook(chatHook.secret, first.headers, first.body), true, 'signature verifies with the spec algorithm');
    assert.equal(verifyStandardWebhook(flakyHook.secret, first.headers, first.body), false, "another webhook's secret does not verify it");
    assert.equal(verifyStandardWebhook(chatHook.secret, first.headers, first.body.replace('assemble', 'disband')), false, 'a tampered body does not verify');
    const body = JSON.parse(first.body) as { type: string; id: string; globalPosition: string; occurredAt: string; data: Record<string, unknown> };
    assert.equal(body.type, 'ChatMessageSent');
    assert.match(body.id, /^[0-9a-f-]{36}$/);
    assert.match(body.globalPosition, /^\d+$/);
    assert.ok(!Number.isNaN(Date.parse(body.occurredAt)));
    assert.equal(body.data['text'], 'webhooks, assemble');
    assert.deepEqual(body.data['channel'], { id: alice.id, username: alice.username });
    assert.equal(body.data['senderId'], undefined, 'account ids are redacted');

    // The flaky receiver: 500, dropped connection, then 204 — one delivery id on all three attempts.
    const flaky = await eventually('three attempts at the flaky receiver', () => {
      const got = at('/flaky').filter((r) => (JSON.parse(r.body) as { id: string }).id === body.id);
      return Promise.resolve(got.length >= 3 ? got : null);
    }, 30_000);
    assert.equal(new Set(flaky.map((r) => r.headers['webhook-id'])).size, 1, 'webhook-id is stable across retries');
    assert.ok(flaky.every((r) => verifyStandardWebhook(flakyHook.secret, r.headers, r.body)));

    const log = await eventually('the delivery log to show the success', async () => {
      const r = await query('GET', `/me/integrations/webhooks/${flakyHook.id}/deliveries`, alice.token);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const d = (r.json['deliveries'] as { eventId: string; status: string; attempts: { attempt: number; statusCode: number | null; error: string | null; succeeded: boolean; startedAt: string; latencyMs: number }[] }[]).find((x) => x.eventId === body.id);
      return d?.status === 'succeeded' ? d : null;
    });
    assert.deepEqual(log.attempts.map((a) => [a.attempt, a.statusCode, a.succeeded]), [[1, 500, false], [2, null, false], [3, 204, true]]);
    assert.match(String(log.attempts[0]!.error), /HTTP 500/);
    assert.ok(log.attempts[1]!.error, 'the dropped connection is logged as an error');
    assert.ok(log.attempts.every((a) => a.latencyMs >= 0));
    const t = log.attempts.map((a) => Date.parse(a.startedAt));
    // Exponential backoff with a 1 s base: ≥ 1 s before the 2nd attempt, ≥ 2 s before the 3rd.
    assert.ok(t[1]! - t[0]! >= 900, `first retry after ${t[1]! - t[0]!} ms`);
    assert.ok(t[2]! - t[1]! >= 1900, `second retry after ${t[2]! - t[1]!} ms`);

    // Per-event-type filtering: a follow reaches only the webhook subscribed to ChannelFollowed.
    assert.equal((await command('PUT', `/channels/${alice.username}/follow`, bob.token)).status, 200);
    const isFollow = (r: Received) => (JSON.parse(r.body) as { type: string }).type === 'ChannelFollowed';
    const follows = await eventually('the follow delivered to the flaky receiver (third attempt)', () => {
      const got = at('/flaky').filter(isFollow);
      return Promise.resolve(got.length >= 3 ? got : null);
    }, 30_000);
    assert.equal((JSON.parse(follows[2]!.body) as { data: { followerName: string } }).data.followerName, bob.username);
    assert.equal(at('/chat').filter(isFollow).length, 0, 'the chat-only webhook is not sent follows');

    // A disabled webhook gets nothing; the others keep receiving.
    assert.equal((await command('POST', `/me/integrations/webhooks/${chatHook.id}/disable`, alice.token)).status, 200);
    const again = await command('POST', `/channels/${alice.username}/chat/messages`, alice.token, { text: 'second message' });
    assert.equal(again.status, 201);
    await eventually('the second message at the flaky receiver (after its retries)', async () =>
      query('GET', `/me/integrations/webhooks/${flakyHook.id}/deliveries`, alice.token).then((r) =>
        (r.json['deliveries'] as { status: string }[]).filter((d) => d.status === 'succeeded').length === 3,
      ),
    30_000);
    assert.equal(at('/chat').length, 1, 'the disabled webhook received nothing more');
    assert.deepEqual(
      at('/chat').concat(at('/flaky')).map((r) => (JSON.parse(r.body) as { type: string }).type).filter((x) => x.startsWith('Broadcast')),
      [],
    );
    assert.equal(at('/live').length, 0, 'no broadcast happened, so the broadcast webhook got nothing');
    const liveLog = await query('GET', `/me/integrations/webhooks/${liveHook.id}/deliveries`, alice.token);
    assert.deepEqual(liveLog.json['deliveries'], []);
    assert.equal((await query('GET', `/me/integrations/webhooks/${flakyHook.id}/deliveries`, bob.token)).status, 404, "bob cannot read alice's delivery log");
  });
  it('manages tokens and webhooks from the dashboard in Chromium', async () => {
    browser = await launchChromium();
    const page = await openPageAs(browser, env.platform.urls.web, bob, '/dashboard');

    const tokenForm = page.getByTestId('api-token-form');
    await tokenForm.getByLabel('Name', { exact: true }).fill('browser tool');
    await tokenForm.getByLabel('Read chat history').check();
    await tokenForm.getByRole('button', { name: 'Create token' }).click();
    const shown = await page.getByTestId('new-api-token').textContent({ timeout: 20_000 });
    assert.match(shown ?? '', /^ect_[0-9a-f]{32}_/);
    await page.getByTestId('api-token-list').filter({ hasText: 'browser tool' }).waitFor();
    const listed = await command('GET', '/me/integrations/tokens', bob.token);
    assert.deepEqual((listed.json['tokens'] as { name: string; scopes: string[] }[]).map((t) => [t.name, t.scopes]), [['browser tool', ['chat:send', 'chat:read']]]);

    const hookForm = page.getByTestId('webhook-form');
    await hookForm.getByLabel('URL').fill('ftp://example.org/nope');
    await hookForm.getByRole('button', { name: 'Add webhook' }).click();
    // The browser's own URL check or the API's 400 refuses it; either way nothing is registered.
    await hookForm.getByLabel('URL').fill(`${hookBase}/browser`);
    await hookForm.getByRole('button', { name: 'Add webhook' }).click();
    assert.match((await page.getByTestId('new-webhook-secret').textContent({ timeout: 20_000 })) ?? '', /^whsec_/);
    const hooks = page.getByTestId('webhook-list');
    await hooks.filter({ hasText: `${hookBase}/browser` }).waitFor();
    assert.equal(((await command('GET', '/me/integrations/webhooks', bob.token)).json['webhooks'] as unknown[]).length, 1);
    await hooks.getByRole('button', { name: 'Deliveries' }).click();
    await hooks.getByText('No deliveries yet.').waitFor();

    await page.getByTestId('api-token-list').getByRole('button', { name: 'Revoke' }).click();
    await page.getByTestId('api-token-list').getByText('No tokens yet.').waitFor();
    const after = await command('GET', '/me/integrations/tokens', bob.token);
    assert.ok((after.json['tokens'] as { revokedAt: string | null }[]).every((t) => t.revokedAt !== null));
    await page.close();
  });
});
