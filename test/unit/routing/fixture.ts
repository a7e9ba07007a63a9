// One gateway.yaml-shaped routing config exercising every criterion; mirrors the README example.
import { parseConfig } from './helpers.ts';

export const exampleConfig = parseConfig({
  routing: {
    defaults: { perAttemptTimeoutMs: 30000, firstByteTimeoutMs: 10000 },
    rules: [
      {
        name: 'vip-keys',
        match: { keyId: 'vk_vip_*' },
        targets: [{ provider: 'anthropic', model: 'claude-opus-4-1' }],
        fallbacks: [{ provider: 'openai', model: 'gpt-4o' }],
      },
      {
        name: 'research-team',
        match: { team: ['research', 'science'] },
        targets: [{ provider: 'openai', model: 'o3' }],
      },
      {
        name: 'acme',
        match: { customer: 'acme' },
        targets: [{ provider: 'azure-openai', model: 'gpt-4o' }],
      },
      {
        name: 'summaries',
        match: { tags: { task: 'summarization' } },
        targets: [{ provider: 'openai', model: 'gpt-4o-mini' }],
      },
      {
        name: 'huge-prompts',
        match: { promptTokens: { gt: 100000 } },
        targets: [{ provider: 'gemini', model: 'gemini-2.5-pro' }],
        retryOn: ['5xx', 'reset'],
      },
      {
        name: 'tiny-gpt4o',
        match: { model: 'gpt-4o', promptTokens: { lt: 200 } },
        targets: [{ provider: 'openai', model: 'gpt-4o-mini' }],
      },
      {
        name: 'weeknights',
        match: { time: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '20:00', to: '06:00', timeZone: 'Europe/Berlin' } },
        targets: [{ provider: 'vllm', model: 'llama-3.3-70b' }],
        fallbacks: [{ provider: 'groq', model: 'llama-3.3-70b' }],
      },
      {
        name: 'claude-family',
        match: { model: 'claude-*' },
        targets: [
          { provider: 'anthropic', model: 'claude-sonnet-4-5', weight: 80, fallbacks: [{ provider: 'bedrock', model: 'anthropic.claude-sonnet-4-5' }] },
          { provider: 'bedrock', model: 'anthropic.claude-sonnet-4-5', weight: 20, fallbacks: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        ],
        contextLengthExceeded: { provider: 'anthropic', model: 'claude-sonnet-4-5-1m' },
      },
    ],
  },
  models: {
    smart: {
      targets: [
        { provider: 'openai', model: 'gpt-4o', weight: 70 },
        { provider: 'azure-openai', model: 'gpt-4o', weight: 30 },
      ],
      fallbacks: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }],
    },
    fast: { targets: [{ provider: 'groq', model: 'llama-3.3-70b' }] },
    'gpt-4o': { targets: [{ provider: 'openai', model: 'gpt-4o' }] },
  },
});

/** Wednesday 2025-06-04 12:00 in Berlin: office hours, outside the weeknight window. */
export const WEDNESDAY_NOON = Date.parse('2025-06-04T10:00:00Z');
