// What every simulated provider decides the same way, whatever its wire format: which answer a
// request gets (text, a tool call, a description of the images it carried), and the usage it
// reports. The usage each simulator reported is kept per recorded request, so a test can assert
// that the client saw exactly what the upstream said.
import type http from 'node:http';
import type { RecordedRequest } from './recorder.ts';
import { DEFAULT_ANSWER, simTokens } from './openai.ts';

export { DEFAULT_ANSWER, simTokens };

/** Usage in provider-neutral terms, as the simulator put it on the wire. */
export interface ReportedUsage {
  inputTokens: number;
  outputTokens: number;
}

const reported = new WeakMap<RecordedRequest, ReportedUsage>();

export function recordUsage(req: RecordedRequest, usage: ReportedUsage): void {
  reported.set(req, usage);
}

/** The usage the simulator put on the wire for this request (undefined: it answered none). */
export function reportedUsage(req: RecordedRequest | undefined): ReportedUsage | undefined {
  return req ? reported.get(req) : undefined;
}

/** The tool every simulator knows how to call. */
export const WEATHER_TOOL = 'get_weather';
/** The arguments it always calls it with. */
export const WEATHER_ARGS = { city: 'Paris', unit: 'celsius' } as const;

export interface SimImage {
  /** `png`, `jpeg`, ... (Bedrock's format names; a media type's subtype elsewhere). */
  format: string;
  bytes: number;
}

/** What a simulator extracted from its own wire format. */
export interface SimPrompt {
  /** Every text of the prompt (system, messages, tool results), joined by spaces. */
  allText: string;
  /** The text of the last user turn. */
  lastUserText: string;
  toolNames: string[];
  images: SimImage[];
}

export type SimAnswer =
  | { kind: 'text'; text: string }
  | { kind: 'tool'; id: string; name: string; args: Record<string, unknown>; argsJson: string };

export function imageAnswer(images: SimImage[]): string {
  return `I see ${images.length} image${images.length === 1 ? '' : 's'}: ${images.map((i) => `${i.format} ${i.bytes} bytes`).join(', ')}.`;
}

/**
 * Deterministic: a tool call when the request offers get_weather and the last user text asks
 * about the weather; otherwise a description of the images; otherwise the scripted or default text.
 */
export function decide(p: SimPrompt, scriptedText: string | undefined, toolIdPrefix: string): SimAnswer {
  if (p.toolNames.includes(WEATHER_TOOL) && /weather/i.test(p.lastUserText)) {
    return { kind: 'tool', id: `${toolIdPrefix}sim_0001`, name: WEATHER_TOOL, args: { ...WEATHER_ARGS }, argsJson: JSON.stringify(WEATHER_ARGS) };
  }
  if (scriptedText !== undefined) return { kind: 'text', text: scriptedText };
  if (p.images.length > 0) return { kind: 'text', text: imageAnswer(p.images) };
  return { kind: 'text', text: DEFAULT_ANSWER };
}

/**
 * Deterministic usage, offset so that it can never be mistaken for the gateway's own estimate:
 * input = 100 + words of the prompt + 50 per image, output = words of the answer (tool calls: 17).
 */
export function usageFor(p: SimPrompt, a: SimAnswer): ReportedUsage {
  return {
    inputTokens: 100 + simTokens(p.allText) + 50 * p.images.length,
    outputTokens: a.kind === 'text' ? simTokens(a.text) : 17,
  };
}

/** Text split into word pieces for streaming (each piece keeps its trailing space). */
export function words(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [text];
}

/** JSON split into a few pieces, the way providers stream tool arguments. */
export function jsonPieces(json: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < json.length; i += 7) out.push(json.slice(i, i + 7));
  return out;
}

/** Bytes of base64 data, as a provider would decode them. */
export function base64Bytes(data: string): number {
  return Buffer.from(data, 'base64').length;
}

/** `data:image/png;base64,....` -> its image. */
export function imageFromDataUrl(url: string): SimImage | undefined {
  const m = /^data:image\/([a-z0-9.+-]+);base64,(.*)$/i.exec(url);
  return m ? { format: m[1]!.toLowerCase(), bytes: base64Bytes(m[2]!) } : undefined;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
