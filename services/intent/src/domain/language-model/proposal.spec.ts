import { LanguageModelConfigError, LanguageModelError } from './errors';
import { GuardedIntentModel, intentModelFromEnvironment, languageModelConfig } from './guarded-intent-model';
import {
  parseProposal,
  proposalJsonSchema,
  proposalToUnderstanding,
  unwrapContent,
  type IntentProposal,
} from './proposal';
import { RulesIntentModel } from '../understanding';
import { fresh, proposal } from '../test-fixtures';

const p: IntentProposal = proposal({
  product_types: ['Coffee Maker'],
  required_options: { type: ['french press'], color: [] },
  min_price: 99.5,
  max_price: 250,
  price_sensitive: true,
  quantity: 2,
});

function failure(content: string): string {
  try {
    parseProposal(content);
  } catch (e) {
    if (e instanceof LanguageModelError) return e.kind;
    throw e;
  }
  return 'parsed';
}

describe('parseProposal', () => {
  it('reads a valid proposal, also inside a code fence or after a think block', () => {
    expect(parseProposal(JSON.stringify(p))).toEqual(p);
    expect(parseProposal('```json\n' + JSON.stringify(p) + '\n```')).toEqual(p);
    expect(parseProposal('<think>the shopper wants coffee</think>\n' + JSON.stringify(p))).toEqual(p);
    expect(unwrapContent('  {"a":1}  ')).toBe('{"a":1}');
  });

  it.each([
    ['truncated JSON', JSON.stringify(p).slice(0, 50), 'truncated'],
    ['not JSON', 'Sure! The shopper wants a coffee maker.', 'invalid_json'],
    ['a trailing comma', JSON.stringify(p).replace(/}$/, ',}'), 'invalid_json'],
    ['nothing', '  ', 'empty_response'],
    ['replacement characters', JSON.stringify(p).replace('Coffee', 'Co\uFFFD\uFFFDee'), 'corrupted'],
    ['an unknown kind', JSON.stringify({ ...p, kind: 'buy_now' }), 'schema_violation'],
    ['a missing field', JSON.stringify({ ...p, quantity: undefined }), 'schema_violation'],
    ['an extra field', JSON.stringify({ ...p, note: 'I also added a warranty' }), 'schema_violation'],
    ['a negative price', JSON.stringify({ ...p, max_price: -1 }), 'schema_violation'],
    ['a fractional quantity', JSON.stringify({ ...p, quantity: 1.5 }), 'schema_violation'],
  ])('rejects %s', (_label, content, kind) => {
    expect(failure(content)).toBe(kind);
  });
});

describe('proposalJsonSchema', () => {
  it('is a strict draft-07 object schema requiring every field', () => {
    const schema = proposalJsonSchema();
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false });
    expect(schema.$schema).toBeUndefined();
    expect(schema.required).toEqual(Object.keys(p));
  });
});

describe('proposalToUnderstanding', () => {
  it('converts dollars to minor units and drops empty option lists', () => {
    expect(proposalToUnderstanding(p, fresh())).toEqual({
      kind: 'search',
      intent: {
        productTypes: ['Coffee Maker'],
        excludedProductTypes: [],
        requiredOptions: { type: ['french press'] },
        excludedOptions: {},
        minPrice: 9950,
        maxPrice: 25000,
        priceSensitive: true,
        quantity: 2,
        keywords: [],
      },
      refinement: false,
      confidence: 0.75,
    });
  });

  it('turns a reference to nothing shown into a question', () => {
    const add = { ...p, kind: 'add_to_cart' as const, item_reference: { item_id: 'x', position: null } };
    expect(proposalToUnderstanding(add, fresh())).toMatchObject({ kind: 'clarify', reason: 'unclear_reference' });
  });
});

describe('configuration from the environment', () => {
  const env = {
    ASSENT_MODEL: 'openai-compatible',
    LLM_BASE_URL: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
    LLM_API_KEY: 'sk-test',
    LLM_MODEL: 'qwen-plus',
  };

  it('builds the guarded model with the default deadline', () => {
    const m = GuardedIntentModel.fromEnvironment(env);
    expect([m.name, m.version, m.deadlineMs]).toEqual(['openai-compatible', 'qwen-plus', 2000]);
    expect(GuardedIntentModel.fromEnvironment({ ...env, LLM_TURN_DEADLINE_MS: '1500' }).deadlineMs).toBe(1500);
  });

  it('names every missing or invalid variable', () => {
    expect(() => languageModelConfig({ ASSENT_MODEL: 'openai-compatible' })).toThrow(
      /LLM_BASE_URL is not set.*LLM_MODEL is not set.*LLM_API_KEY is not set/,
    );
    expect(() => languageModelConfig({ ...env, LLM_BASE_URL: 'dashscope' })).toThrow(/not an http\(s\) URL/);
    expect(() => languageModelConfig({ ...env, LLM_TURN_DEADLINE_MS: '2s' })).toThrow(LanguageModelConfigError);
    expect(() => languageModelConfig({ ...env, LLM_TURN_DEADLINE_MS: '5' })).toThrow(/from 100 to 60000/);
  });

  it('accepts an empty API key for servers without authentication', () => {
    expect(languageModelConfig({ ...env, LLM_API_KEY: '' }).apiKey).toBe('');
  });

  it('picks the model ASSENT_MODEL names, rules by default, and refuses unknown names', () => {
    expect(intentModelFromEnvironment({})).toBeInstanceOf(RulesIntentModel);
    expect(intentModelFromEnvironment({ ASSENT_MODEL: 'rules' })).toBeInstanceOf(RulesIntentModel);
    expect(intentModelFromEnvironment(env)).toBeInstanceOf(GuardedIntentModel);
    expect(() => intentModelFromEnvironment({ ASSENT_MODEL: 'gpt' })).toThrow(/not an intent model/);
  });
});
