// Checksum and structure checks that turn a format match into a confident detection.
// Rules name a validator (data); this module is the one place that holds the arithmetic.
import { isIPv6 } from 'node:net';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = CRC32_TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function base62(value: number, width: number): string {
  let out = '';
  let v = value;
  while (v > 0) {
    out = BASE62[v % 62]! + out;
    v = Math.floor(v / 62);
  }
  return out.padStart(width, '0');
}

/**
 * GitHub classic tokens (ghp_, gho_, ghu_, ghs_, ghr_) and npm tokens (npm_) end in a 6-char
 * base62 CRC32 of the 30 random characters before it.
 */
export function hasCrc32Base62Suffix(token: string): boolean {
  const underscore = token.indexOf('_');
  const body = token.slice(underscore + 1);
  if (body.length !== 36) return false;
  return base62(crc32(body.slice(0, 30)), 6) === body.slice(30);
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 = 1. */
export function ibanMod97Valid(compactIban: string): boolean {
  const rearranged = compactIban.slice(4) + compactIban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    if (code >= 48 && code <= 57) remainder = (remainder * 10 + (code - 48)) % 97;
    else if (code >= 65 && code <= 90) remainder = (remainder * 100 + (code - 55)) % 97;
    else return false;
  }
  return remainder === 1;
}

/** US SSN: area not 000, 666 or 9xx; group not 00; serial not 0000. */
export function usSsnValid(digits: string): boolean {
  if (digits.length !== 9) return false;
  const area = Number(digits.slice(0, 3));
  const group = Number(digits.slice(3, 5));
  const serial = Number(digits.slice(5));
  return area !== 0 && area !== 666 && area < 900 && group !== 0 && serial !== 0;
}

const NINO_BAD_PREFIXES = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);

/** UK National Insurance number: prefix letters outside the reserved sets, suffix A-D. */
export function ukNinoValid(text: string): boolean {
  const compact = text.split(' ').join('').toUpperCase();
  if (compact.length !== 9) return false;
  const prefix = compact.slice(0, 2);
  if (NINO_BAD_PREFIXES.has(prefix)) return false;
  if ('DFIQUV'.includes(prefix[0]!) || 'DFIOQUV'.includes(prefix[1]!)) return false;
  return 'ABCD'.includes(compact[8]!);
}

/**
 * German tax id (Steuerliche Identifikationsnummer): 11 digits, no leading zero, in the first ten
 * exactly one digit repeats (twice or three times), check digit by ISO 7064 MOD 11,10.
 */
export function deSteuerIdValid(digits: string): boolean {
  if (digits.length !== 11 || digits[0] === '0') return false;
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 10; i++) counts[digits.charCodeAt(i) - 48]!++;
  const repeated = counts.filter((c) => c > 1);
  if (repeated.length !== 1 || repeated[0]! > 3) return false;
  let product = 10;
  for (let i = 0; i < 10; i++) {
    let sum = (digits.charCodeAt(i) - 48 + product) % 10;
    if (sum === 0) sum = 10;
    product = (sum * 2) % 11;
  }
  let check = 11 - product;
  if (check === 10) check = 0;
  return check === digits.charCodeAt(10) - 48;
}

export function deSteuerIdCheckDigit(firstTen: string): number {
  let product = 10;
  for (let i = 0; i < 10; i++) {
    let sum = (firstTen.charCodeAt(i) - 48 + product) % 10;
    if (sum === 0) sum = 10;
    product = (sum * 2) % 11;
  }
  const check = 11 - product;
  return check === 10 ? 0 : check;
}

export function ipv4Valid(text: string): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  return parts.every((p) => p.length > 0 && p.length <= 3 && Number(p) <= 255 && !(p.length > 1 && p[0] === '0'));
}

/** A real IPv6 address with at least two non-empty groups (so "::" or "a::" in code is not one). */
export function ipv6Valid(text: string): boolean {
  if (!isIPv6(text)) return false;
  return text.split(':').filter((g) => g.length > 0).length >= 3;
}

function isJsonSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** The segment's JSON if it is an object; undefined for anything else (arrays, scalars, junk). */
function decodeBase64UrlJson(segment: string): unknown {
  try {
    const decoded = Buffer.from(segment, 'base64url').toString('utf8');
    // Look-alikes rarely decode to {...}: skip JSON.parse and its throw (costly) for the rest.
    let first = 0;
    let last = decoded.length - 1;
    while (first <= last && isJsonSpace(decoded.charCodeAt(first))) first++;
    while (last >= first && isJsonSpace(decoded.charCodeAt(last))) last--;
    if (decoded.charCodeAt(first) !== 123 || decoded.charCodeAt(last) !== 125) return undefined;
    return JSON.parse(decoded) as unknown;
  } catch {
    return undefined;
  }
}

/** A JWT is only a JWT if its header decodes to JSON naming an alg and its payload to an object. */
export function jwtValid(token: string): boolean {
  const [header, payload] = token.split('.');
  if (!header || !payload) return false;
  const h = decodeBase64UrlJson(header);
  const p = decodeBase64UrlJson(payload);
  return typeof h === 'object' && h !== null && 'alg' in h && typeof p === 'object' && p !== null && !Array.isArray(p);
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const c of counts.values()) {
    const p = c / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * Letters only, in capitalised words of ordinary length (RootManageSharedAccessKey, myAccessKeyName):
 * an identifier, not a secret. Random mixed-case letters rarely keep every capital followed by a
 * small letter, and never average 3.5+ letters per capital.
 */
export function isWordIdentifier(text: string): boolean {
  let capitals = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const upper = c >= 65 && c <= 90;
    if (!upper && !(c >= 97 && c <= 122)) return false;
    if (upper) {
      capitals++;
      const next = text.charCodeAt(i + 1);
      if (!(next >= 97 && next <= 122)) return false;
    }
  }
  return capitals >= 2 && text.length / capitals >= 3.5;
}

/** Secrets mix character classes; plain words, identifiers and hex hashes at the threshold are ruled out. */
export function looksRandom(text: string, minEntropy: number): boolean {
  if (shannonEntropy(text) < minEntropy || isWordIdentifier(text)) return false;
  let lower = 0;
  let upper = 0;
  let digit = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 97 && c <= 122) lower = 1;
    else if (c >= 65 && c <= 90) upper = 1;
    else if (c >= 48 && c <= 57) digit = 1;
    else other = 1;
  }
  return lower + upper + digit + other >= 2;
}

export type ValidatorName =
  | 'crc32-base62-suffix'
  | 'luhn'
  | 'iban-mod97'
  | 'us-ssn'
  | 'uk-nino'
  | 'de-steuer-id'
  | 'ipv4'
  | 'ipv6'
  | 'jwt'
  | 'entropy';

/** Runs a named validator on the matched value (already stripped of separators where relevant). */
export function runValidator(name: ValidatorName, value: string, minEntropy = 3.5): boolean {
  switch (name) {
    case 'crc32-base62-suffix':
      return hasCrc32Base62Suffix(value);
    case 'luhn':
      return luhnValid(value);
    case 'iban-mod97':
      return ibanMod97Valid(value);
    case 'us-ssn':
      return usSsnValid(value);
    case 'uk-nino':
      return ukNinoValid(value);
    case 'de-steuer-id':
      return deSteuerIdValid(value);
    case 'ipv4':
      return ipv4Valid(value);
    case 'ipv6':
      return ipv6Valid(value);
    case 'jwt':
      return jwtValid(value);
    case 'entropy':
      return looksRandom(value, minEntropy);
  }
}
