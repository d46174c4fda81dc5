/**
 * The HTTP client of webhook deliveries: undici's `fetch` over an Agent whose DNS lookup refuses private, loopback and
 * link-local addresses (unless allowed), so the check holds at connect time, for every address a name resolves to, and
 * cannot be dodged by DNS rebinding between a check and the request. IP-literal hosts skip DNS, so they are checked
 * before the request.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { Agent, fetch, type Response } from 'undici';
import { isPrivateAddress, isPrivateHostLiteral } from '@eventcast/platform';

/** Refused because the target is not a public address. */
export class PrivateAddressError extends Error {
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, a private, loopback or link-local address (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true allows it)`);
    this.name = 'PrivateAddressError';
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** `dns.lookup` with the signature net.connect passes, failing when any resolved address is private. */
function publicOnlyLookup(hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) return callback(new PrivateAddressError(hostname, bad.address), []);
    if ((options as LookupAllOptions).all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}

/** A POST client for webhook deliveries. */
export class WebhookHttpClient {
  private readonly agent: Agent;

  /** @param allowPrivate let deliveries reach private networks (tests, local development). */
  constructor(private readonly allowPrivate: boolean) {
    this.agent = allowPrivate ? new Agent() : new Agent({ connect: { lookup: publicOnlyLookup } });
  }

  /**
   * POSTs `body` to `url`; redirects are not followed.
   * @throws {PrivateAddressError} for a private target when not allowed; network errors and timeouts as `fetch` does.
   */
  async post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<Response> {
    const host = new URL(url).hostname;
    if (!this.allowPrivate && isPrivateHostLiteral(host)) throw new PrivateAddressError(host, host);
    return fetch(url, { method: 'POST', body, headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), dispatcher: this.agent });
  }

  /** Closes the connection pool. */
  close(): Promise<void> {
    return this.agent.close();
  }
}
