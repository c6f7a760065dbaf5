export * from './intent.module';
export { understandRules, vocabularyFromProducts, RulesIntentModel } from './domain/understanding';
