// Admin credentials from gateway.yaml `admins`: same key format and HMAC as virtual keys, but a
// separate list, so a virtual key can never act as an admin and vice versa.
import type { AdminCaller } from '../governance/admin.ts';
import type { AdminCredentialConfig } from '../governance/schema.ts';
import { hashVirtualKey, keyHashesEqual } from './virtual-key.ts';

/** The caller behind `rawKey`, or undefined (answer 401). Checks every entry in constant time. */
export function authenticateAdmin(rawKey: string | undefined, admins: readonly AdminCredentialConfig[], secret: Uint8Array): AdminCaller | undefined {
  if (!rawKey) return undefined;
  const hash = hashVirtualKey(rawKey, secret);
  let found: AdminCaller | undefined;
  for (const admin of admins) if (keyHashesEqual(admin.hash, hash)) found = { id: admin.id, scopes: [...admin.scopes] };
  return found;
}
