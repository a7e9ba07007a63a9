// Prompt-injection heuristics. Phrases, not proof: policies monitor these by default.
import type { DetectionRule } from './rule-types.ts';

export const INJECTION_RULES: DetectionRule[] = [
  {
    id: 'injection_ignore_instructions',
    family: 'injection',
    entity: 'prompt_injection',
    description: '"ignore/disregard/forget (all) previous instructions"',
    specificity: 'heuristic',
    source: { kind: 'keywords', keywords: ['ignore', 'disregard', 'forget', 'override'] },
    pattern:
      '(?i)\\b(?:ignore|disregard|forget|override)\\s+(?:all\\s+|any\\s+|the\\s+|of\\s+)*(?:previous|prior|above|earlier|preceding|your|system)\\s+(?:instructions|prompts?|rules|directions|guidelines|messages)',
    maxMatchLength: 120,
  },
  {
    id: 'injection_reveal_system_prompt',
    family: 'injection',
    entity: 'prompt_injection',
    description: 'asks to reveal the system / hidden prompt',
    specificity: 'heuristic',
    source: { kind: 'keywords', keywords: ['prompt', 'instructions'] },
    pattern:
      '(?i)\\b(?:reveal|show|print|repeat|output|leak|tell me)\\s+(?:me\\s+)?(?:your|the)\\s+(?:full\\s+)?(?:system|initial|hidden|original|secret)\\s+(?:prompt|instructions)',
    maxMatchLength: 100,
  },
  {
    id: 'injection_role_override',
    family: 'injection',
    entity: 'prompt_injection',
    description: 'jailbreak personas: developer mode, DAN, do anything now',
    specificity: 'heuristic',
    source: { kind: 'keywords', keywords: ['you are now', 'developer mode', 'do anything now', 'jailbr'] },
    pattern:
      '(?i)(?:you are now (?:in )?(?:developer mode|dan|jailbroken|unrestricted|unfiltered)|enable developer mode|do anything now|jailbreak mode)',
    maxMatchLength: 60,
  },
  {
    id: 'injection_fake_delimiter',
    family: 'injection',
    entity: 'prompt_injection',
    description: 'chat-template or system delimiters smuggled into user text',
    specificity: 'heuristic',
    source: { kind: 'keywords', keywords: ['<|im_start|>', '[system]', 'system:', '<system>', '</system>', '[inst]'] },
    pattern: '(?i)(?:<\\|im_start\\|>\\s*system|\\[system\\]|###\\s*system\\s*:|</?system>|\\[/?INST\\])',
    maxMatchLength: 40,
  },
];
