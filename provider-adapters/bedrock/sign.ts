// AWS SigV4 for Bedrock runtime requests. Runs after translation so the signature covers the
// final body; the signing time is injected (no clock in this layer).
import type * as Sha256Js from '@aws-crypto/sha256-js';
import type * as SignatureV4Module from '@smithy/signature-v4';
import type { WireRequest } from '../contract.ts';

// The AWS signing libraries load with the first Bedrock request, not in every worker at start-up.
let signing: Promise<[typeof Sha256Js, typeof SignatureV4Module]> | undefined;

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function splitQuery(path: string): { pathname: string; query: Record<string, string> } {
  const q = path.indexOf('?');
  if (q < 0) return { pathname: path, query: {} };
  return { pathname: path.slice(0, q), query: Object.fromEntries(new URLSearchParams(path.slice(q + 1))) };
}

export async function signBedrockRequest(wire: WireRequest, creds: AwsCredentials, region: string, now: Date): Promise<WireRequest> {
  const host = wire.headers.host;
  if (!host) throw new Error('Bedrock wire request has no host header to sign');
  signing ??= Promise.all([import('@aws-crypto/sha256-js'), import('@smithy/signature-v4')]);
  const [{ Sha256 }, { SignatureV4 }] = await signing;
  const signer = new SignatureV4({ service: 'bedrock', region, credentials: creds, sha256: Sha256 });
  const { pathname, query } = splitQuery(wire.path);
  const signed = await signer.sign(
    { method: wire.method, protocol: 'https:', hostname: host, path: pathname, query, headers: { ...wire.headers }, body: wire.body },
    { signingDate: now },
  );
  return { ...wire, headers: { ...signed.headers } };
}
