/**
 * The `openai-compatible` adapter of the IntentModel port (DESIGN.md, Understanding intent): a
 * language model proposes, the corruption detector, the schema and grounding decide whether to believe
 * it, and the rules model answers whenever they do not (or the deadline passes).
 */
export {
  detectCorruption,
  decodeUtf8,
  jsonStructure,
  type Corruption,
  type CorruptionOptions,
  type CorruptionReason,
} from './corruption';
export { LanguageModelConfigError, LanguageModelError, type ModelFailureKind } from './errors';
export { groundInCatalog, groundProposal, trustProposal, type Grounding } from './grounding';
export {
  ADAPTER_NAME,
  DEFAULT_TURN_DEADLINE_MS,
  GuardedIntentModel,
  intentModelFromEnvironment,
  languageModelConfig,
  type FallbackReason,
  type GuardedIntentModelOptions,
  type LanguageModelConfig,
  type TurnProvenance,
} from './guarded-intent-model';
export {
  OpenAiCompatibleClient,
  type ChatCompletion,
  type ChatCompletionClient,
  type ChatCompletionRequest,
  type OpenAiCompatibleClientOptions,
} from './openai-compatible-client';
export { buildMessages, type ChatMessage } from './prompt';
export {
  IntentProposal,
  PROPOSAL_KINDS,
  parseProposal,
  proposalIntent,
  proposalJsonSchema,
  proposalToUnderstanding,
  resolveItemReference,
  unwrapContent,
} from './proposal';
