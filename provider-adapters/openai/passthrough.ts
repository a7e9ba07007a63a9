// openai-* dialect body -> OpenAI-format provider, untouched except the model (and usage opt-in).
import { fail, unsupportedParam } from '../canonical/errors.ts';
import { isObject, type JsonObject } from '../canonical/json.ts';
import type { OpenAIQuirks } from './request.ts';

/**
 * Preset-specific key policy for passthrough bodies. `accepts` undefined means the server takes
 * every OpenAI parameter; otherwise other keys are dropped (if listed droppable) or rejected.
 */
export interface PassthroughPolicy {
  accepts?: ReadonlySet<string>;
  droppable?: ReadonlySet<string>;
  renames?: Readonly<Record<string, string>>;
}

export function passthroughChatBody(
  raw: JsonObject,
  model: string,
  quirks: OpenAIQuirks,
  policy: PassthroughPolicy,
): { body: JsonObject; dropped: string[] } {
  const body: JsonObject = { ...raw, model };
  const dropped: string[] = [];
  for (const [from, to] of Object.entries(policy.renames ?? {})) {
    if (from in body) {
      body[to] = body[from];
      delete body[from];
    }
  }
  // Servers that only generate one choice (Groq) accept n only as 1.
  if (!quirks.supportsN && body.n !== undefined && body.n !== null && body.n !== 1) fail(unsupportedParam('n', quirks.provider));
  if (policy.accepts) {
    for (const key of Object.keys(body)) {
      if (policy.accepts.has(key)) continue;
      if (policy.droppable?.has(key)) {
        dropped.push(key);
        delete body[key];
      } else {
        fail(unsupportedParam(key, quirks.provider));
      }
    }
  }
  if (body.stream === true && quirks.supportsStreamOptions) {
    const existing = isObject(body.stream_options) ? body.stream_options : {};
    body.stream_options = { ...existing, include_usage: true };
  }
  return { body, dropped };
}
