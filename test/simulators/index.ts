// Every simulated provider in one place. Each speaks its provider's documented wire format on
// loopback, records what it received (SimulatedServer.requests), answers deterministically and
// keeps the usage it reported per request (reportedUsage).
export { SimulatedServer, writeChunks, type Behaviour, type RecordedRequest } from './recorder.ts';
export { createOpenAISimulator } from './openai.ts';
export { createOpenAIToolsSimulator, type OpenAIFlavour, type OpenAIToolsSimulatorOptions } from './openai-tools.ts';
export { createAnthropicSimulator } from './anthropic.ts';
export { createGeminiSimulator } from './gemini.ts';
export { createBedrockSimulator, verifySigV4, eventFrame, type BedrockCredentials, type BedrockSimulatorOptions } from './bedrock.ts';
export {
  DEFAULT_ANSWER,
  WEATHER_ARGS,
  WEATHER_TOOL,
  imageAnswer,
  reportedUsage,
  simTokens,
  type ReportedUsage,
} from './wire-common.ts';
