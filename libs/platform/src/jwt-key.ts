/**
 * The HS256 key of the platform's access tokens as a Node `KeyObject`, for @nestjs/jwt (jsonwebtoken).
 *
 * Given the secret as a string, jsonwebtoken's `verify` first tries `crypto.createPublicKey(secret)` on EVERY call
 * (to tell a PEM public key from an HMAC secret), which throws for a plain secret, and only then makes the secret key:
 * measured at 6.8 % of command-api's CPU on authenticated HTTP requests (bench/results/command-path-http.md). With a
 * secret `KeyObject` made once it skips both (jsonwebtoken 9 `verify.js`: a KeyObject is used as is).
 */
import { createSecretKey, type KeyObject } from 'node:crypto';

/**
 * @param secret JWT_SECRET (UTF-8, at least 32 characters by configuration).
 * @returns a `secret` KeyObject for HS256 signing and verification.
 */
export function jwtSecretKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}
