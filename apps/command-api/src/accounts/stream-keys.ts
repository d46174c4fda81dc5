/**
 * Stream-key material for the account decider: a new random key, its SHA-256 hash (what ingest checks) and its
 * AES-256-GCM ciphertext under STREAM_KEY_SECRET (what the owner reads back). The plaintext goes only to the owner.
 */
import { randomUUID } from 'node:crypto';
import type { StreamKeyMaterial } from '@eventcast/domain';
import { decryptSecret, encryptSecret, generateStreamKey, hashStreamKey } from '@eventcast/platform';

/** A fresh key: `plaintext` for the owner's response, `material` for the event. */
export interface IssuedStreamKey {
  plaintext: string;
  material: StreamKeyMaterial;
}

/** Creates a new stream key of `accountId` (= channel id). `secretHex`: 64 hex chars (STREAM_KEY_SECRET). */
export function issueStreamKey(accountId: string, secretHex: string): IssuedStreamKey {
  const plaintext = generateStreamKey(accountId);
  return {
    plaintext,
    material: { keyId: randomUUID(), keyHash: hashStreamKey(plaintext), keyCiphertext: encryptSecret(plaintext, secretHex) },
  };
}

/** Decrypts the owner's copy. @throws {Error} when the ciphertext was tampered with or the secret changed. */
export function revealStreamKey(material: StreamKeyMaterial, secretHex: string): string {
  return decryptSecret(material.keyCiphertext, secretHex);
}
