import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { isPrivateAddress } from '@eventcast/platform';
import { PrivateAddressError, WebhookHttpClient } from './outbound-http.js';

describe('webhook HTTP client: private-network guard', () => {
  let server: Server;
  let port: number;
  let hits = 0;
  before(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('refuses loopback literals and localhost before connecting', async () => {
    const client = new WebhookHttpClient(false);
    try {
      await assert.rejects(client.post(`http://127.0.0.1:${port}/`, '{}', {}, 2000), PrivateAddressError);
      await assert.rejects(client.post(`http://localhost:${port}/`, '{}', {}, 2000), PrivateAddressError);
      await assert.rejects(client.post(`http://[::1]:${port}/`, '{}', {}, 2000), PrivateAddressError);
      assert.equal(hits, 0);
    } finally {
      await client.close();
    }
  });

  it('refuses a name that resolves to a private address at connect time', async (t) => {
    const name = hostname();
    const resolved = await lookup(name).catch(() => null);
    if (!resolved || !isPrivateAddress(resolved.address)) {
      t.skip(`${name} does not resolve to a private address here`);
      return;
    }
    const client = new WebhookHttpClient(false);
    try {
      const err = await client.post(`http://${name}:${port}/`, '{}', {}, 2000).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(err instanceof Error);
      const cause = (err as Error & { cause?: unknown }).cause;
      assert.ok(cause instanceof PrivateAddressError, `expected the lookup to refuse, got ${cause instanceof Error ? cause.message : err.message}`);
      assert.equal(hits, 0);
    } finally {
      await client.close();
    }
  });

  it('reaches private addresses when allowed', async () => {
    const client = new WebhookHttpClient(true);
    try {
      const res = await client.post(`http://127.0.0.1:${port}/`, '{}', { 'content-type': 'application/json' }, 2000);
      assert.equal(res.status, 204);
      assert.equal(hits, 1);
    } finally {
      await client.close();
    }
  });
});
