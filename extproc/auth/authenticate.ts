// Raw key -> Principal, or a typed failure. Every failure a client can cause is the same 401
// (authentication_error / invalid_api_key); the message says which, never echoes the key.
import type { GatewayErrorInfo } from '../../provider-adapters/contract.ts';
import { StateStoreUnavailableError } from '../governance/store.ts';
import type { Principal } from './key-record.ts';
import type { KeyLookup } from './key-store.ts';
import { VIRTUAL_KEY_PREFIX, hashVirtualKey, keyHashesEqual } from './virtual-key.ts';

export type AuthFailureReason = 'missing' | 'unknown' | 'expired' | 'revoked' | 'store_unavailable';

export type AuthResult = { ok: true; principal: Principal } | { ok: false; reason: AuthFailureReason; error: GatewayErrorInfo };

const MESSAGES: Record<Exclude<AuthFailureReason, 'store_unavailable'>, string> = {
  missing: 'Missing API key: send a Switchboard virtual key (sk-sb-...).',
  unknown: 'Invalid API key.',
  expired: 'This API key has expired.',
  revoked: 'This API key has been revoked.',
};

export function authErrorInfo(reason: AuthFailureReason): GatewayErrorInfo {
  if (reason === 'store_unavailable') {
    return { status: 503, type: 'api_error', code: 'service_unavailable', message: 'API keys cannot be checked right now; please retry.', headers: { 'retry-after': '1' } };
  }
  return { status: 401, type: 'authentication_error', code: 'invalid_api_key', message: MESSAGES[reason], param: null };
}

function fail(reason: AuthFailureReason): AuthResult {
  return { ok: false, reason, error: authErrorInfo(reason) };
}

export interface AuthenticatorOptions {
  keys: KeyLookup;
  /** The HMAC secret (see keyHashSecretFromEnv). */
  secret: Uint8Array;
}

export class Authenticator {
  private readonly options: AuthenticatorOptions;

  constructor(options: AuthenticatorOptions) {
    this.options = options;
  }

  async authenticate(rawKey: string | undefined, nowMs: number): Promise<AuthResult> {
    if (!rawKey) return fail('missing');
    // Cheap reject of obvious non-keys (e.g. a provider key pasted by mistake) without a lookup.
    if (!rawKey.startsWith(VIRTUAL_KEY_PREFIX) || rawKey.length > 256) return fail('unknown');
    const hash = hashVirtualKey(rawKey, this.options.secret);
    let key;
    try {
      key = await this.options.keys.findByHash(hash);
    } catch (error) {
      if (error instanceof StateStoreUnavailableError) return fail('store_unavailable');
      throw error;
    }
    // The lookup is by hash (which reveals nothing about the key); compare in constant time anyway
    // so no code path ever branches on a partial match.
    if (!key || !keyHashesEqual(key.hash, hash)) return fail('unknown');
    if (!key.active || key.revokedAtMs !== undefined) return fail('revoked');
    if (key.expiresAt !== undefined && key.expiresAt <= nowMs) return fail('expired');
    return {
      ok: true,
      principal: { keyId: key.id, keyName: key.name, teamId: key.teamId, customerId: key.customerId, key },
    };
  }
}
