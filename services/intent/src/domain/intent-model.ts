import type { IntentModel, Understanding, UnderstandInput } from './understanding';

/**
 * The intent service's one port to language understanding (DESIGN.md, Understanding intent). The
 * rules adapter is the default; the model only proposes, the aggregate and the other services dispose.
 */
export type { DialogueContext, IntentModel, ProductVocabulary, Understanding } from './understanding';
export { RulesIntentModel } from './understanding';

export const INTENT_MODEL = Symbol('IntentModel');

/** What answered a turn: the understanding, which model gave it, whether it was a fallback, how long it took. */
export interface ModelVerdict {
  understanding: Understanding;
  model: { name: string; version: string };
  /** Set when the configured model could not be used (deadline, error, garbage, untrusted proposal). */
  fallback: { reason: string } | null;
  modelMs: number;
}

/** A model that can say how it answered (the language-model adapter does; the rules model just answers). */
export interface ProvenancedIntentModel extends IntentModel {
  understandWithProvenance(input: UnderstandInput): Promise<ModelVerdict>;
}

export async function understandWithProvenance(model: IntentModel, input: UnderstandInput): Promise<ModelVerdict> {
  if ('understandWithProvenance' in model) return (model as ProvenancedIntentModel).understandWithProvenance(input);
  const started = performance.now();
  const understanding = await model.understand(input);
  return {
    understanding,
    model: { name: model.name, version: model.version },
    fallback: null,
    modelMs: performance.now() - started,
  };
}
