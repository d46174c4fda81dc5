/**
 * One-time proofs of knowing a stream key, for `ingest.authorize-publish` (shape and window: `publishProofSchema` and
 * `PUBLISH_PROOF_WINDOW_MS` of @eventcast/contracts; design: docs/design.md "Publish authorization without key
 * material on the bus").
 *
 * `mac = HMAC-SHA256(key = SHA-256(streamKey) as 32 bytes, "eventcast-publish-v1\n<channelId|->\n<nonce>\n<issuedAt>")`
 * (RFC 2104 HMAC with SHA-256, FIPS 180-4). The ingest knows the key (OBS sends it), the command side knows its hash
 * (from the StreamKeyIssued/Rotated events); neither the key nor the hash travels. A fresh 128-bit nonce and the
 * timestamp make each proof single-use: the verifier refuses a stale timestamp and a nonce it has already accepted
 * within the window ({@link ProofReplayCache}).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { PUBLISH_PROOF_WINDOW_MS, type PublishProof } from '@eventcast/contracts';

const CONTEXT = 'eventcast-publish-v1';

function mac(keyHashHex: string, channelId: string | null, nonce: string, issuedAt: number): Buffer {
  const key = Buffer.from(keyHashHex, 'hex');
  if (key.length !== 32) throw new Error('key hash must be 64 hex characters (SHA-256)');
  return createHmac('sha256', key).update(`${CONTEXT}\n${channelId ?? '-'}\n${nonce}\n${issuedAt}`, 'utf8').digest();
}

/**
 * Builds a proof for a publish attempt.
 * @param keyHashHex SHA-256 hex of the stream key OBS sent (`hashStreamKey`).
 * @param channelId channel parsed from the key, or null when the key is malformed (the proof is then never checked).
 * @param now Unix time in ms (default `Date.now()`).
 */
export function createPublishProof(keyHashHex: string, channelId: string | null, now = Date.now()): PublishProof {
  const nonce = randomBytes(16).toString('hex');
  return { nonce, issuedAt: now, mac: mac(keyHashHex, channelId, nonce, now).toString('hex') };
}

/** Why a proof was refused. */
export type ProofRefusal = 'stale' | 'mismatch' | 'replayed';

/**
 * Checks a proof against the channel's current key hash: timestamp within `windowMs` of `now` (either way), MAC equal
 * in constant time, and nonce not seen before within the window (recorded in `replays` only when everything else
 * holds, so a wrong guess cannot burn a real nonce).
 * @returns null when valid, else the refusal.
 */
export function verifyPublishProof(
  proof: PublishProof,
  keyHashHex: string,
  channelId: string | null,
  replays: ProofReplayCache,
  now = Date.now(),
  windowMs = PUBLISH_PROOF_WINDOW_MS,
): ProofRefusal | null {
  if (Math.abs(now - proof.issuedAt) > windowMs) return 'stale';
  const expected = mac(keyHashHex, channelId, proof.nonce, proof.issuedAt);
  const given = Buffer.from(proof.mac, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'mismatch';
  if (!replays.claim(proof.nonce, proof.issuedAt + windowMs, now)) return 'replayed';
  return null;
}

/**
 * Nonces of accepted proofs until their window ends (so a captured proof cannot be used twice). In memory, per
 * process: bounded by `maxEntries` (oldest evicted first; an evicted nonce is also past most of its window at the
 * rates a command-api sees). Several command-api instances behind one queue group would need a shared cache (e.g.
 * Redis `SET NX PX`); docs/design.md says so.
 */
export class ProofReplayCache {
  private readonly seen = new Map<string, number>();

  /** @param maxEntries most nonces kept (default 100 000 ≈ 10 MB). */
  constructor(private readonly maxEntries = 100_000) {}

  /**
   * Records `nonce` until `expiresAt` (Unix ms).
   * @returns false when the nonce is already recorded and not expired (a replay).
   */
  claim(nonce: string, expiresAt: number, now = Date.now()): boolean {
    const until = this.seen.get(nonce);
    if (until !== undefined && until >= now) return false;
    this.seen.delete(nonce);
    this.seen.set(nonce, expiresAt);
    this.prune(now);
    return true;
  }

  /** Drops expired entries (insertion order ≈ expiry order) and the oldest beyond `maxEntries`. */
  private prune(now: number): void {
    for (const [n, until] of this.seen) {
      if (until >= now && this.seen.size <= this.maxEntries) break;
      this.seen.delete(n);
    }
  }
}
