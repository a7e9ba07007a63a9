// A virtual key as the gateway sees it: the gateway.yaml shape, plus where it came from.
import type { VirtualKeyConfig } from '../governance/schema.ts';

export interface VirtualKeyRecord extends VirtualKeyConfig {
  /** `config` keys are declared in gateway.yaml (read-only); `dynamic` ones live in the state store. */
  source: 'config' | 'dynamic';
  createdAtMs?: number;
  revokedAtMs?: number;
}

/** Who is calling, after authentication. Policy (hierarchy, profile) is resolved by governance. */
export interface Principal {
  keyId: string;
  keyName: string;
  teamId?: string;
  customerId?: string;
  key: VirtualKeyRecord;
}
