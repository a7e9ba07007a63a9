// Evasion normalisation: produce views of a text with the hiding undone, each with a map back to
// the original offsets so a finding in a view redacts the right characters of the original.
//  - normaliseWithMap: zero-width characters dropped, \uXXXX / \xNN / &#NN; escapes decoded,
//    percent-encoding decoded (two levels), compatibility forms folded by NFKC (full-width ...).
//  - encodedRuns: base64 and hex runs whose decoded bytes are readable text.

export interface MappedView {
  text: string;
  /** Original offset where view character i starts / ends (end exclusive). */
  startMap: Int32Array;
  endMap: Int32Array;
  /**
   * View ranges [changes[2j], changes[2j + 1]) that normalisation produced (empty: characters
   * dropped there); everything else is a copy of the original. Absent when not tracked (two
   * levels of changes): compare the maps instead.
   */
  changes?: number[];
}

/** U+00AD, U+034F, U+180E, U+200B..U+200F, U+2060..U+2064, U+FEFF. */
function isZeroWidth(c: number): boolean {
  return c === 0x00ad || c === 0x034f || c === 0x180e || (c >= 0x200b && c <= 0x200f) || (c >= 0x2060 && c <= 0x2064) || c === 0xfeff;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function readHex(text: string, at: number, count: number): number {
  let v = 0;
  for (let k = 0; k < count; k++) {
    const h = hexValue(text.charCodeAt(at + k));
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// NFKC of single code points, memoised: a flood of the same full-width character costs one call.
const nfkcCache = new Map<number, string>();
function nfkc(cp: number): string {
  let folded = nfkcCache.get(cp);
  if (folded === undefined) {
    folded = String.fromCodePoint(cp).normalize('NFKC');
    if (nfkcCache.size < 65536) nfkcCache.set(cp, folded);
  }
  return folded;
}

/** Growable output: text pieces plus the per-character map back to the input. */
class ViewBuilder {
  private readonly pieces: string[] = [];
  starts: Int32Array;
  ends: Int32Array;
  length = 0;
  readonly changes: number[] = [];
  /** Sized for a view as long as the input: growing by doubling copied megabytes per scan. */
  constructor(expected: number) {
    this.starts = new Int32Array(Math.max(16, expected));
    this.ends = new Int32Array(Math.max(16, expected));
  }
  private reserve(extra: number): void {
    if (this.length + extra <= this.starts.length) return;
    let size = this.starts.length * 2;
    while (size < this.length + extra) size *= 2;
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    starts.set(this.starts.subarray(0, this.length));
    ends.set(this.ends.subarray(0, this.length));
    this.starts = starts;
    this.ends = ends;
  }
  /** Unchanged input [from, to): each character maps to itself. */
  copy(text: string, from: number, to: number): void {
    if (to <= from) return;
    this.reserve(to - from);
    this.pieces.push(text.slice(from, to));
    for (let k = from; k < to; k++) {
      this.starts[this.length] = k;
      this.ends[this.length++] = k + 1;
    }
  }
  /** Replacement text for input [from, to). */
  emit(replacement: string, from: number, to: number): void {
    this.reserve(replacement.length);
    this.pieces.push(replacement);
    const changes = this.changes;
    // Adjacent replacements (a flood of full-width characters) make one range.
    if (changes.length > 0 && changes[changes.length - 1] === this.length && replacement.length > 0 && changes[changes.length - 1]! > changes[changes.length - 2]!) changes[changes.length - 1] = this.length + replacement.length;
    else changes.push(this.length, this.length + replacement.length);
    for (let k = 0; k < replacement.length; k++) {
      this.starts[this.length] = from;
      this.ends[this.length++] = to;
    }
  }
  /** Replacement text for input [from, from + replacement.length), character for character. */
  emitEach(replacement: string, from: number): void {
    const length = this.length;
    this.emit(replacement, from, from + 1);
    for (let k = 1; k < replacement.length; k++) {
      this.starts[length + k] = from + k;
      this.ends[length + k] = from + k + 1;
    }
  }
  view(): MappedView {
    return { text: this.pieces.join(''), startMap: this.starts.subarray(0, this.length), endMap: this.ends.subarray(0, this.length), changes: this.changes };
  }
}

/**
 * How far before a changed character an escape that reaches into it can start (&#NNNNNNN; is
 * the longest): text further from every change was already undone by the first level.
 */
const ESCAPE_REACH = 16;

/**
 * Undoes one level of hiding. Plain stretches are copied in bulk; only escape introducers and
 * non-ASCII characters are looked at. Returns undefined when nothing changes (no allocation).
 * With `only` (a previous level's changes), looks only where that level changed something.
 */
function normaliseOnce(text: string, only?: number[]): MappedView | undefined {
  let out: ViewBuilder | undefined;
  let copied = 0;
  const replace = (replacement: string, from: number, to: number): void => {
    out ??= new ViewBuilder(text.length + 16);
    out.copy(text, copied, from);
    out.emit(replacement, from, to);
    copied = to;
  };
  let i = 0;
  let next = 0; // index into `only` of the next range to look at
  let stop = only ? -1 : text.length; // end of the stretch being looked at
  while (i < text.length) {
    if (i >= stop) {
      // Skip to the next previously changed range (less the reach of an escape into it).
      while (next < only!.length && only![next + 1]! <= i) next += 2;
      if (next >= only!.length) break;
      i = Math.max(i, only![next]! - ESCAPE_REACH);
      stop = only![next + 1]!;
      next += 2;
      continue;
    }
    const c = text.charCodeAt(i);
    if (c < 0x80 && c !== 92 && c !== 37 && c !== 38) {
      i++;
      continue;
    }
    if (isZeroWidth(c)) {
      replace('', i, i + 1);
      i++;
      continue;
    }
    if (c === 92 && (text[i + 1] === 'u' || text[i + 1] === 'x')) {
      const width = text[i + 1] === 'u' ? 4 : 2;
      const v = readHex(text, i + 2, width);
      if (v >= 0) {
        replace(isZeroWidth(v) ? '' : String.fromCharCode(v), i, i + 2 + width);
        i += 2 + width;
        continue;
      }
    }
    if (c === 38 && text[i + 1] === '#') {
      const semi = text.indexOf(';', i + 2);
      if (semi > i + 2 && semi - i <= 10) {
        const body = text.slice(i + 2, semi);
        const isHex = body[0] === 'x' || body[0] === 'X';
        const v = isHex ? readHex(body, 1, body.length - 1) : decimalValue(body);
        if (v >= 0 && v <= 0x10ffff) {
          replace(String.fromCodePoint(v), i, semi + 1);
          i = semi + 1;
          continue;
        }
      }
    }
    if (c === 37) {
      // A run of %XX bytes decodes together so multi-byte UTF-8 survives.
      const bytes: number[] = [];
      let j = i;
      while (text.charCodeAt(j) === 37 && bytes.length < 4096) {
        const v = readHex(text, j + 1, 2);
        if (v < 0) break;
        bytes.push(v);
        j += 3;
      }
      if (bytes.length > 0) {
        let decoded: string;
        try {
          decoded = utf8.decode(Uint8Array.from(bytes));
        } catch {
          decoded = String.fromCharCode(...bytes);
        }
        replace(decoded, i, j);
        i = j;
        continue;
      }
    }
    if (c >= 0xff01 && c <= 0xff5e) {
      // Full-width ASCII: NFKC is the ASCII character. A run is folded as one piece (a flood
      // of them used to cost a lookup, a slice and a piece per character).
      let j = i + 1;
      while (j < text.length && j - i < 4096) {
        const d = text.charCodeAt(j);
        if (d < 0xff01 || d > 0xff5e) break;
        j++;
      }
      const codes = new Array<number>(j - i);
      for (let k = i; k < j; k++) codes[k - i] = text.charCodeAt(k) - 0xfee0;
      out ??= new ViewBuilder(text.length + 16);
      out.copy(text, copied, i);
      out.emitEach(String.fromCharCode(...codes), i);
      copied = j;
      i = j;
      continue;
    }
    if (c >= 0x80) {
      const cp = text.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      const folded = nfkc(cp);
      const same = width === 1 ? folded.length === 1 && folded.charCodeAt(0) === c : folded.length === 2 && folded.codePointAt(0) === cp;
      if (!same) replace(folded, i, i + width);
      i += width;
      continue;
    }
    i++;
  }
  if (!out) return undefined;
  const builder = out as ViewBuilder;
  builder.copy(text, copied, text.length);
  return builder.view();
}

function decimalValue(body: string): number {
  if (body.length === 0 || body.length > 7) return -1;
  let v = 0;
  for (let k = 0; k < body.length; k++) {
    const d = body.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Normalises twice (double percent-encoding, escaped escapes), composing the offset maps. */
export function normaliseWithMap(text: string): MappedView | undefined {
  const first = normaliseOnce(text);
  if (!first) return undefined;
  const second = normaliseOnce(first.text, first.changes);
  if (!second) return first;
  const startMap = new Int32Array(second.text.length);
  const endMap = new Int32Array(second.text.length);
  for (let k = 0; k < second.text.length; k++) {
    startMap[k] = first.startMap[second.startMap[k]!]!;
    endMap[k] = first.endMap[second.endMap[k]! - 1]!;
  }
  return { text: second.text, startMap, endMap }; // changes of two levels: not tracked
}

export interface EncodedRun {
  start: number;
  end: number;
  decoded: string;
  encoding: 'base64' | 'hex';
}

// Character classes of the encoded-run scan (ASCII only): 1 = base64 / base64url alphabet,
// 2 = also a hex digit. A table read per character instead of a chain of comparisons.
const B64_CHAR = 1;
const HEX_CHAR = 2;
const ENCODED_CLASS = new Uint8Array(128);
const B64_VALUE = new Int8Array(128).fill(-1);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const v = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(ch);
  // Node's decoder takes either alphabet whatever the encoding name: '-' and '_' are 62 and 63.
  B64_VALUE[c] = v >= 0 ? v : ch === '-' ? 62 : ch === '_' ? 63 : -1;
  if (B64_VALUE[c]! >= 0) ENCODED_CLASS[c] = B64_CHAR | (hexValue(c) >= 0 ? HEX_CHAR : 0);
}

/** Reused decode buffer: runs are decoded in place, and only readable ones become strings. */
let scratch = new Uint8Array(4096);

/**
 * Decoded bytes count as text when they are valid UTF-8 and almost all printable (at least 95%;
 * any byte >= 0x80 counts as printable). Returns the text or undefined.
 */
function readableText(bytes: Uint8Array, length: number): string | undefined {
  if (length < 8) return undefined;
  // Bail out as soon as too many unprintable bytes are seen: random bytes fail within a few.
  const threshold = length * 0.95;
  let unprintable = 0;
  for (let k = 0; k < length; k++) {
    const b = bytes[k]!;
    if (b < 0x20 ? b !== 9 && b !== 10 && b !== 13 : b === 0x7f) {
      unprintable++;
      if (length - unprintable < threshold) return undefined;
    }
  }
  // Validate first: a fatal TextDecoder throws on bad input, and a throw per run is costly.
  if (!validUtf8(bytes, length)) return undefined;
  return utf8.decode(bytes.subarray(0, length));
}

/** WHATWG UTF-8 validity (what a fatal TextDecoder accepts): no overlongs, surrogates or > U+10FFFF. */
function validUtf8(bytes: Uint8Array, length: number): boolean {
  let k = 0;
  while (k < length) {
    const b = bytes[k]!;
    if (b < 0x80) {
      k++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return false;
    if (k + need >= length) return false;
    const b1 = bytes[k + 1]!;
    if (b1 < lo || b1 > hi) return false;
    for (let m = 2; m <= need; m++) {
      const bm = bytes[k + m]!;
      if (bm < 0x80 || bm > 0xbf) return false;
    }
    k += need + 1;
  }
  return true;
}

function reserveScratch(size: number): Uint8Array {
  if (scratch.length < size) scratch = new Uint8Array(Math.max(size, scratch.length * 2));
  return scratch;
}

/** Hex digits [start, end) (even count) into scratch; returns the byte count. */
function decodeHexInto(text: string, start: number, end: number): number {
  const out = reserveScratch((end - start) >> 1);
  let n = 0;
  for (let k = start; k < end; k += 2) out[n++] = (hexValue(text.charCodeAt(k)) << 4) | hexValue(text.charCodeAt(k + 1));
  return n;
}

/**
 * Base64 / base64url characters [start, end) (padding excluded) into scratch, exactly as Node's
 * Buffer.from(body, 'base64') decodes them: whole bytes only, a trailing partial byte dropped.
 */
function decodeBase64Into(text: string, start: number, end: number): number {
  const out = reserveScratch(((end - start) * 3) >> 2);
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let k = start; k < end; k++) {
    acc = ((acc << 6) | B64_VALUE[text.charCodeAt(k)]!) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return n;
}

const MIN_ENCODED_RUN = 16;
/** Alphabet characters a qualifying run needs at least (two '=' of padding count towards 16). */
const MIN_BODY = MIN_ENCODED_RUN - 2;

/** Base64 / base64url and hex runs that decode to readable text. */
export function encodedRuns(text: string): EncodedRun[] {
  const runs: EncodedRun[] = [];
  const length = text.length;
  let i = 0;
  // Only runs of at least MIN_BODY alphabet characters can qualify, so probe the last character
  // such a run starting at i would cover: when it is outside the alphabet, no run from i to the
  // probe qualifies and the scan jumps past it without reading what lies between (prose is words
  // of a few letters: most of the text is never read).
  while (i + MIN_BODY <= length) {
    let probe = i + MIN_BODY - 1;
    const p = text.charCodeAt(probe);
    if (p >= 128 || ENCODED_CLASS[p] === 0) {
      i = probe + 1;
      continue;
    }
    // The run holding the probe: back to its start (not before i), then forward to its end.
    let start = probe;
    while (start > i && isEncoded(text.charCodeAt(start - 1))) start--;
    while (probe < length && isEncoded(text.charCodeAt(probe))) probe++;
    const bodyEnd = probe;
    let end = bodyEnd;
    while (end < length && end - bodyEnd < 2 && text.charCodeAt(end) === 61) end++;
    i = end;
    if (end - start < MIN_ENCODED_RUN) continue;
    let allHex = true;
    for (let k = start; k < bodyEnd && allHex; k++) if ((ENCODED_CLASS[text.charCodeAt(k)]! & HEX_CHAR) === 0) allHex = false;
    if (allHex && end === bodyEnd && (end - start) % 2 === 0) {
      const size = decodeHexInto(text, start, end);
      const decoded = readableText(scratch, size);
      if (decoded !== undefined) {
        runs.push({ start, end, decoded, encoding: 'hex' });
        continue;
      }
    }
    const size = decodeBase64Into(text, start, bodyEnd);
    const decoded = readableText(scratch, size);
    if (decoded !== undefined) runs.push({ start, end, decoded, encoding: 'base64' });
  }
  return runs;
}

function isEncoded(c: number): boolean {
  return c < 128 && ENCODED_CLASS[c] !== 0;
}
