// Shared decisions for parameters a provider cannot take: reject (400 naming it) or drop-and-list.
import { fail, unsupportedParam } from './errors.ts';
import type { CanonicalRequest } from './types.ts';

/** Applies the request's unmapped ingress params: droppable ones are listed, the rest rejected. */
export function settleUnmapped(request: CanonicalRequest, provider: string, dropped: string[]): void {
  for (const u of request.unmapped) {
    if (u.droppable) dropped.push(u.param);
    else fail(unsupportedParam(u.param, provider));
  }
}

/** A canonical field the provider lacks: reject unless it is at its no-op value. */
export function rejectIfSet(value: unknown, noop: unknown, param: string, provider: string): void {
  if (value !== undefined && value !== noop) fail(unsupportedParam(param, provider));
}

export function rejectImageUrls(request: CanonicalRequest, provider: string): void {
  for (const m of request.messages) {
    for (const p of m.content) {
      const parts = p.type === 'tool_result' ? p.content : [p];
      for (const part of parts) {
        if (part.type === 'image' && part.source.kind === 'url') {
          fail(unsupportedParam(part.param, provider, 'image URLs are not fetched by the gateway; send the image as base64 data'));
        }
      }
    }
  }
}

/** Name of the forced tool used to emulate JSON mode on providers that lack it (Anthropic, Bedrock). */
export const STRUCTURED_OUTPUT_TOOL = 'switchboard_structured_output';

/** Anthropic-style thinking budget from an OpenAI-style effort (documented in PARAMETERS.md). */
export function budgetForEffort(effort: string): number {
  if (effort === 'minimal' || effort === 'low') return 1024;
  if (effort === 'medium') return 8192;
  return 24576;
}

export function effortForBudget(budget: number): 'low' | 'medium' | 'high' {
  if (budget <= 2048) return 'low';
  if (budget <= 12288) return 'medium';
  return 'high';
}

/** Image `detail` is an OpenAI-only hint: listed as dropped for every other provider. */
export function dropImageDetails(request: CanonicalRequest, dropped: string[]): void {
  for (const m of request.messages) {
    for (const p of m.content) if (p.type === 'image' && p.detail !== undefined) dropped.push(`${p.param}.detail`);
  }
}
