// What the pipeline knows about a request when it asks for a routing decision.
import type { Target } from './target.ts';

export interface RouteInput {
  /** Model name or alias exactly as the client requested it. */
  model: string;
  keyId?: string;
  team?: string;
  customer?: string;
  /** Merged request tags (see collectTags). */
  tags: Record<string, string>;
  /** Estimated prompt tokens (see token-estimate.ts). */
  promptTokens: number;
  /** The virtual key's own fallback chain; replaces the rule's fallbacks. */
  fallbackOverride?: readonly Target[];
}
