// The conformance matrix's shape and its results file, shared by the integration test that fills
// it (test/integration/conformance.test.ts) and the generator that renders it
// (test/conformance/render-matrix.ts -> docs/CONFORMANCE.md).
import { fileURLToPath } from 'node:url';

export const DIALECTS = ['openai-chat', 'openai-responses', 'anthropic-messages', 'gemini-generate'] as const;
export type Dialect = (typeof DIALECTS)[number];

/** One provider per type; `name` is the provider's name in the test gateway.yaml. */
export const PROVIDERS = ['openai', 'azure-openai', 'groq', 'anthropic', 'gemini', 'bedrock'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const CASES = ['text', 'text-stream', 'tool', 'tool-stream', 'image', 'usage', 'usage-stream', 'stream-cut'] as const;
export type Case = (typeof CASES)[number];

export const CASE_TITLES: Record<Case | 'embeddings', string> = {
  text: 'text (JSON)',
  'text-stream': 'text (stream)',
  tool: 'tool call (JSON)',
  'tool-stream': 'tool call (stream)',
  image: 'image input, base64',
  usage: 'usage = upstream (JSON)',
  'usage-stream': 'usage = upstream (stream)',
  'stream-cut': 'stream cut upstream -> client error',
  embeddings: 'embeddings (openai SDK)',
};

export const DIALECT_CLIENTS: Record<Dialect | 'openai-embeddings', string> = {
  'openai-chat': '`openai` chat.completions',
  'openai-responses': '`openai` responses',
  'anthropic-messages': '`@anthropic-ai/sdk` messages',
  'gemini-generate': '`@google/genai` models',
  'openai-embeddings': '`openai` embeddings',
};

export type CellStatus = 'pass' | 'fail' | 'unsupported';

export interface Cell {
  dialect: Dialect | 'openai-embeddings';
  provider: Provider;
  case: Case | 'embeddings';
  status: CellStatus;
  /** Failure cause, or the reason a cell is unsupported. */
  detail?: string;
}

export interface Results {
  generatedAt: string;
  /** Envoy and Node versions the run used. */
  environment: Record<string, string>;
  cells: Cell[];
}

export const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));
export const MARKDOWN_FILE = fileURLToPath(new URL('../../docs/CONFORMANCE.md', import.meta.url));
