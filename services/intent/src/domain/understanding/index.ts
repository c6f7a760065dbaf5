export type {
  CartLineRef,
  ClarifyReason,
  DialogueContext,
  IntentModel,
  ProductVocabulary,
  SuggestionRef,
  Understanding,
  UnderstandInput,
} from './types';
export { RulesIntentModel, understandRules, CONFIDENCE, MAX_UTTERANCE_CHARS } from './rules-intent-model';
export { vocabularyFromProducts, type TauProductLike } from './vocabulary';
