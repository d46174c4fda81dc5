/**
 * Password hashing with Argon2id (@node-rs/argon2; OWASP parameters: 19 MiB, 2 passes, 1 lane). Only the PHC string
 * ever leaves this module.
 */
import { hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';

const OPTIONS = { algorithm: 2 /* Algorithm.Argon2id */, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** Hashes a password. @returns an `$argon2id$…` PHC string. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

let dummy: Promise<string> | undefined;

/**
 * Verifies `password` against a PHC string. With `phc` null (unknown user) it verifies against a throw-away hash so
 * the reply takes as long as for a known user. @returns false for null, a mismatch or a malformed hash.
 */
export async function verifyPassword(phc: string | null, password: string): Promise<boolean> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  try {
    const ok = await verify(phc ?? (await dummy), password);
    return phc !== null && ok;
  } catch {
    return false;
  }
}
