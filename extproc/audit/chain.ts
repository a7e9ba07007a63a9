// Hash chaining: each entry's hash covers the canonical JSON of the entry without its hash,
// including seq and prevHash, so editing, deleting, inserting or reordering breaks the chain.
import { createHash, createHmac } from 'node:crypto';

export const GENESIS_HASH = createHash('sha256').update('switchboard-audit-genesis-v1').digest('hex');

/** JSON with object keys sorted at every level and no whitespace: one byte string per value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function entryHash(entryWithoutHash: Record<string, unknown>, hmacKey?: string): string {
  const data = canonicalJson(entryWithoutHash);
  return hmacKey ? createHmac('sha256', hmacKey).update(data).digest('hex') : createHash('sha256').update(data).digest('hex');
}

export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_CHAIN: ChainHead = { seq: 0, hash: GENESIS_HASH };
