// The virtual-key hashing secret. Production sets SWITCHBOARD_KEY_HASH_SECRET; the embedded
// default creates one once in the state directory (0600), so keys hashed earlier keep working.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KEY_HASH_SECRET_ENV } from '../auth/virtual-key.ts';

export function ensureKeyHashSecret(stateDir: string, env: NodeJS.ProcessEnv = process.env): { secret: string; source: 'env' | 'file' | 'created' } {
  const fromEnv = env[KEY_HASH_SECRET_ENV];
  if (fromEnv) return { secret: fromEnv, source: 'env' };
  const file = path.resolve(stateDir, 'key-hash-secret');
  if (existsSync(file)) return { secret: readFileSync(file, 'utf8').trim(), source: 'file' };
  mkdirSync(stateDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return { secret, source: 'created' };
}
