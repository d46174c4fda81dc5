/**
 * Private, loopback, link-local and other non-public IP addresses (IANA special-purpose registries, RFC 6890 and its
 * updates): outgoing webhooks refuse them unless explicitly allowed, so a user cannot make the platform call services
 * that are only reachable from inside (server-side request forgery), e.g. `127.0.0.1:5432` or `169.254.169.254`.
 */
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/**
 * True when `address` (an IPv4 or IPv6 literal, IPv6 optionally in brackets) is not a public unicast address.
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is judged by its IPv4 part.
 * @throws {Error} when `address` is not an IP literal.
 */
export function isPrivateAddress(address: string): boolean {
  const a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(a);
  if (family === 0) throw new Error(`not an IP address: ${address}`);
  if (family === 4) return blocked.check(a, 'ipv4');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped?.[1]) return blocked.check(mapped[1], 'ipv4');
  return blocked.check(a, 'ipv6');
}

/** True when `host` (a URL's hostname) is an IP literal in a private range or a `localhost` name. */
export function isPrivateHostLiteral(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const bare = h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
  return isIP(bare) !== 0 && isPrivateAddress(bare);
}
