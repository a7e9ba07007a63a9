// Provider adapters for the OpenAI-compatible presets.
import type { ProviderAdapter } from '../canonical/adapter.ts';
import { baseParts } from '../canonical/url.ts';
import { createOpenAIFormatAdapter } from '../openai/adapter.ts';
import { PRESETS, type Preset } from './presets.ts';

function presetAdapter(preset: Preset): ProviderAdapter {
  return createOpenAIFormatAdapter({
    quirks: preset.quirks,
    policy: preset.policy,
    nativeDialects: ['openai-chat', 'openai-embeddings'],
    route(target, _model, op) {
      const { host, prefix } = baseParts(target.baseUrl || preset.defaultBaseUrl, '/v1');
      return { host, path: `${prefix}/${op}` };
    },
  });
}

export const groqProvider = presetAdapter(PRESETS.groq);
export const mistralProvider = presetAdapter(PRESETS.mistral);
export const vllmProvider = presetAdapter(PRESETS.vllm);
export const ollamaProvider = presetAdapter(PRESETS.ollama);
export const openAICompatibleProvider = presetAdapter(PRESETS['openai-compatible']);
