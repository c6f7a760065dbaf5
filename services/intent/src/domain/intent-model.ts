/**
 * The intent service's one port to language understanding (DESIGN.md, Understanding intent). The
 * rules adapter is the default; the model only proposes, the aggregate and the other services dispose.
 */
export type { DialogueContext, IntentModel, ProductVocabulary, Understanding } from './understanding';
export { RulesIntentModel } from './understanding';

export const INTENT_MODEL = Symbol('IntentModel');
