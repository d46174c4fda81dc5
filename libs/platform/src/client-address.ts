/**
 * The client's address behind reverse proxies: `TRUSTED_PROXIES` names the proxies whose `X-Forwarded-For` is believed
 * (comma-separated IP addresses, CIDR ranges, or proxy-addr's presets `loopback`, `linklocal`, `uniquelocal`). Empty
 * (the default): nobody is trusted and the client is the socket's peer, so a client cannot choose its own address by
 * sending the header. With trusted proxies the client is the first address, walking `X-Forwarded-For` from the right
 * (the closest hop), that is not a trusted proxy — proxy-addr's algorithm, the one Express and Fastify use (their
 * `trust proxy` / `trustProxy`), so a spoofed left part of the header is never taken.
 *
 * Used for the per-client limits: command-api's sign-in/sign-up budget (Fastify's `trustProxy`) and the realtime edge's
 * connection-rate limit per address (infra/README.md "Behind a proxy").
 */
import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';

/** Environment variable listing the trusted reverse proxies. */
export const TRUSTED_PROXIES_VAR = 'TRUSTED_PROXIES';

/**
 * Reads {@link TRUSTED_PROXIES_VAR}: the list, trimmed, without empty entries ([] when unset).
 * @throws {Error} naming the variable when an entry is neither an IP address, a CIDR range nor a preset.
 */
export function trustedProxiesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const list = (env[TRUSTED_PROXIES_VAR] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  try {
    proxyaddr.compile(list);
  } catch (err) {
    throw new Error(`invalid configuration: ${TRUSTED_PROXIES_VAR} must list IP addresses, CIDR ranges or loopback/linklocal/uniquelocal (${(err as Error).message})`, { cause: err });
  }
  return list;
}

/**
 * A function giving the client address of a connection from its socket peer address and its `X-Forwarded-For`
 * header (absent: undefined), trusting `trusted` ({@link trustedProxiesFromEnv}) as described in the module comment.
 * IPv4-mapped IPv6 peers (`::ffff:10.0.0.1`) match IPv4 entries; an entry that is not an IP address gives the peer.
 */
export function clientAddressResolver(trusted: readonly string[]): (peer: string, forwardedFor: string | undefined) => string {
  if (trusted.length === 0) return (peer) => peer;
  const trust = proxyaddr.compile([...trusted]);
  return (peer, forwardedFor) => {
    const headers: Record<string, string> = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor };
    // proxy-addr reads the peer from `connection`/`socket` and the header from `headers` of a Node request.
    const req = { headers, connection: { remoteAddress: peer }, socket: { remoteAddress: peer } } as unknown as Parameters<typeof proxyaddr>[0];
    const address = proxyaddr(req, trust);
    // proxy-addr returns the first untrusted entry as written; a header entry that is no address is not a client.
    return isIP(address) === 0 ? peer : address;
  };
}
