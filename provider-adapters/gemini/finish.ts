// Gemini finishReason <-> canonical.
import type { FinishReason } from '../canonical/types.ts';

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'LANGUAGE']);

export function finishFromGemini(reason: unknown, hadToolCalls: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (typeof reason === 'string' && FILTERED.has(reason)) return 'content_filter';
  if (reason === 'MALFORMED_FUNCTION_CALL' || reason === 'OTHER') return 'error';
  // Gemini reports STOP even when the turn ends in function calls.
  return hadToolCalls ? 'tool_calls' : 'stop';
}

export function finishToGemini(reason: FinishReason): string {
  if (reason === 'length') return 'MAX_TOKENS';
  if (reason === 'content_filter') return 'SAFETY';
  if (reason === 'error') return 'OTHER';
  return 'STOP';
}
