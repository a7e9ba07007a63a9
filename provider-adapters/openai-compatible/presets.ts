// OpenAI-compatible servers: base URL and parameter quirks only. Each preset says which OpenAI
// parameters the server takes, which it renames, and which may be dropped without changing meaning.
import { OPENAI_QUIRKS, type OpenAIQuirks } from '../openai/request.ts';
import type { PassthroughPolicy } from '../openai/passthrough.ts';

export interface Preset {
  defaultBaseUrl: string;
  quirks: OpenAIQuirks;
  policy: PassthroughPolicy;
}

const DROP_ALWAYS = ['store', 'service_tier', 'prompt_cache_key', 'safety_identifier', 'prediction'];

export const PRESETS: Record<'groq' | 'mistral' | 'vllm' | 'ollama' | 'openai-compatible', Preset> = {
  // https://console.groq.com/docs/openai: no logprobs/logit_bias, n must be 1.
  groq: {
    defaultBaseUrl: 'https://api.groq.com/openai/v1',
    quirks: { ...OPENAI_QUIRKS, provider: 'groq', supportsN: false, supportsMetadata: false, supportsReasoningEffort: true },
    policy: {
      accepts: new Set(['model', 'messages', 'tools', 'tool_choice', 'parallel_tool_calls', 'temperature', 'top_p', 'max_tokens', 'max_completion_tokens', 'stop', 'response_format', 'stream', 'stream_options', 'user', 'seed', 'presence_penalty', 'frequency_penalty', 'reasoning_effort', 'n']),
      droppable: new Set([...DROP_ALWAYS, 'metadata']),
    },
  },
  // https://docs.mistral.ai/api: max_tokens, random_seed; rejects unknown fields; usage always in the last chunk.
  mistral: {
    defaultBaseUrl: 'https://api.mistral.ai/v1',
    quirks: { ...OPENAI_QUIRKS, provider: 'mistral', maxTokensField: 'max_tokens', seedField: 'random_seed', supportsUser: false, supportsMetadata: false, supportsReasoningEffort: false, supportsStreamOptions: false },
    policy: {
      renames: { seed: 'random_seed', max_completion_tokens: 'max_tokens' },
      accepts: new Set(['model', 'messages', 'tools', 'tool_choice', 'parallel_tool_calls', 'temperature', 'top_p', 'max_tokens', 'stop', 'response_format', 'stream', 'random_seed', 'presence_penalty', 'frequency_penalty', 'n', 'safe_prompt']),
      droppable: new Set([...DROP_ALWAYS, 'user', 'metadata', 'stream_options']),
    },
  },
  // vLLM's server accepts the whole OpenAI surface plus top_k.
  vllm: {
    defaultBaseUrl: 'http://localhost:8000/v1',
    quirks: { ...OPENAI_QUIRKS, provider: 'vllm', supportsTopK: true, supportsMetadata: false },
    policy: {},
  },
  // https://github.com/ollama/ollama/blob/main/docs/openai.md: no tool_choice, n, logit_bias, user.
  ollama: {
    defaultBaseUrl: 'http://localhost:11434/v1',
    quirks: { ...OPENAI_QUIRKS, provider: 'ollama', maxTokensField: 'max_tokens', supportsN: false, supportsToolChoice: false, supportsUser: false, supportsMetadata: false },
    policy: {
      accepts: new Set(['model', 'messages', 'tools', 'temperature', 'top_p', 'max_tokens', 'max_completion_tokens', 'stop', 'response_format', 'stream', 'stream_options', 'seed', 'presence_penalty', 'frequency_penalty', 'reasoning_effort']),
      droppable: new Set([...DROP_ALWAYS, 'user', 'metadata']),
    },
  },
  'openai-compatible': {
    defaultBaseUrl: 'http://localhost:8080/v1',
    quirks: { ...OPENAI_QUIRKS, provider: 'openai-compatible', maxTokensField: 'max_tokens' },
    policy: {},
  },
};
