// Provider credentials from env vars or files, resolved when the config loads (and reloads).
// Values stay in this object: never logged, never in errors (errors name the reference only).
import { readFileSync } from 'node:fs';
import type { CredentialsPort } from '../pipeline/ports.ts';
import type { ProviderConfig, SecretRef } from './providers-schema.ts';

export class MissingCredentialError extends Error {}

function describe(ref: SecretRef): string {
  return 'env' in ref ? `env ${ref.env}` : `file ${ref.file}`;
}

function read(ref: SecretRef | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (!ref) return undefined;
  if ('env' in ref) return env[ref.env]?.trim() || undefined;
  try {
    return readFileSync(ref.file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface ResolvedCredentials extends CredentialsPort {
  /** References that resolved to nothing, for a start-up warning. */
  missing: string[];
  /** Every credential value replaced by [REDACTED] (bytes unchanged when none occurs). */
  scrub(body: Uint8Array): Uint8Array;
}

export function resolveCredentials(providers: Record<string, ProviderConfig>, env: NodeJS.ProcessEnv = process.env): ResolvedCredentials {
  const apiKeys = new Map<string, string>();
  const aws = new Map<string, { accessKeyId: string; secretAccessKey: string; sessionToken?: string }>();
  const refs = new Map<string, string>();
  const missing: string[] = [];
  for (const [name, p] of Object.entries(providers)) {
    for (const k of p.keys) {
      const id = `${name}/${k.id}`;
      if (p.type === 'bedrock') {
        const accessKeyId = read(k.accessKeyId, env);
        const secretAccessKey = read(k.secretAccessKey, env);
        const sessionToken = read(k.sessionToken, env);
        refs.set(id, `${describe(k.accessKeyId!)} / ${describe(k.secretAccessKey!)}`);
        if (accessKeyId && secretAccessKey) aws.set(id, { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) });
        else missing.push(`${id} (${refs.get(id)})`);
      } else if (k.secret) {
        refs.set(id, describe(k.secret));
        const v = read(k.secret, env);
        if (v) apiKeys.set(id, v);
        else missing.push(`${id} (${describe(k.secret)})`);
      }
    }
  }
  const fail = (id: string): never => {
    throw new MissingCredentialError(`provider key ${id} is not configured (${refs.get(id) ?? 'unknown key'})`);
  };
  // Short values could match ordinary text; real credentials are long.
  const values = [...apiKeys.values(), ...[...aws.values()].flatMap((c) => [c.accessKeyId, c.secretAccessKey, ...(c.sessionToken ? [c.sessionToken] : [])])].filter((v) => v.length >= 8);
  const needles = values.map((v) => Buffer.from(v, 'utf8'));
  const scrub = (body: Uint8Array): Uint8Array => {
    const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (!needles.some((n) => buf.includes(n))) return body;
    let text = buf.toString('utf8');
    for (const v of values) text = text.split(v).join('[REDACTED]');
    return Buffer.from(text, 'utf8');
  };
  return {
    missing,
    scrub,
    apiKey: (provider, keyId) => apiKeys.get(`${provider}/${keyId}`) ?? fail(`${provider}/${keyId}`),
    aws: (provider, keyId) => aws.get(`${provider}/${keyId}`) ?? fail(`${provider}/${keyId}`),
  };
}
