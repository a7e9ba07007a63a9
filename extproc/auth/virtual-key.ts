// Virtual keys: `sk-sb-` + 32 random bytes (base64url), shown once. Only a keyed hash is stored:
// HMAC-SHA256 under a server secret. Why not bcrypt/argon2: those slow hashes protect low-entropy
// passwords against guessing; a 256-bit random key cannot be guessed, so slowness buys nothing and
// would cost tens of milliseconds per request. A salt-free keyed hash also gives an O(1) lookup by
// hash, and a leaked store is useless without the secret (no offline checking of candidate keys).
import { createHmac, createSecretKey, randomBytes as cryptoRandomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

export const VIRTUAL_KEY_PREFIX = 'sk-sb-';
const HASH_SCHEME = 'hmac-sha256:';
export const KEY_HASH_SECRET_ENV = 'SWITCHBOARD_KEY_HASH_SECRET';

export type RandomBytes = (size: number) => Buffer;

export function generateVirtualKey(randomBytes: RandomBytes = cryptoRandomBytes): string {
  return VIRTUAL_KEY_PREFIX + randomBytes(32).toString('base64url');
}

// A KeyObject per secret: createHmac with raw bytes would import the key on every request.
const keyObjects = new WeakMap<Uint8Array, KeyObject>();

/** `hmac-sha256:<hex>`, the form stored in the state store and written in gateway.yaml. */
export function hashVirtualKey(rawKey: string, secret: Uint8Array): string {
  let key = keyObjects.get(secret);
  if (!key) {
    key = createSecretKey(secret);
    keyObjects.set(secret, key);
  }
  return HASH_SCHEME + createHmac('sha256', key).update(rawKey, 'utf8').digest('hex');
}

/** Constant-time comparison of two hashes in the stored form. */
export function keyHashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Reads the hashing secret; refuses short ones so nobody runs with a guessable secret. */
export function keyHashSecretFromEnv(env: Record<string, string | undefined>): Buffer {
  const value = env[KEY_HASH_SECRET_ENV];
  if (!value || value.length < 32) {
    throw new Error(`${KEY_HASH_SECRET_ENV} must be set to at least 32 characters (e.g. openssl rand -hex 32)`);
  }
  return Buffer.from(value, 'utf8');
}
