import {
  BrokenCircuitError,
  BulkheadRejectedError,
  ConsecutiveBreaker,
  ExponentialBackoff,
  IsolatedCircuitError,
  TaskCancelledError,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { RulesIntentModel, type IntentModel, type UnderstandInput, type Understanding } from '../understanding';
import { LanguageModelConfigError, LanguageModelError, type ModelFailureKind } from './errors';
import { groundProposal } from './grounding';
import { OpenAiCompatibleClient, type ChatCompletionClient } from './openai-compatible-client';
import { buildMessages } from './prompt';
import { parseProposal, proposalJsonSchema, type IntentProposal } from './proposal';

/** Why a turn was answered by the rules model instead of the language model. */
export type FallbackReason =
  | ModelFailureKind
  /** The proposal contradicts the shopper's words or the rules reading (see grounding.ts). */
  | 'untrusted'
  /** Too many consecutive failures: the model is not called until the breaker's cool-down has passed. */
  | 'circuit_open'
  /** All model call slots busy and the queue full. */
  | 'bulkhead_full'
  /** A bug of ours, not the model's: answered by rules all the same. */
  | 'internal_error';

export interface TurnProvenance {
  understanding: Understanding;
  /** The model whose reading the understanding is. */
  model: { name: string; version: string };
  fallback: { reason: FallbackReason; detail?: string } | null;
  /** Time spent on the language model this turn (0 when it was not called). */
  modelMs: number;
  /** HTTP attempts made this turn (retries included). */
  attempts: number;
  /** What the model named that does not exist, dropped before the proposal was judged. */
  dropped: string[];
  /**
   * False when the rules reading was final and the model was not asked (a dialogue act such as "yes",
   * an empty, garbled or overlong message, an injection): the model could only agree or be overruled.
   * Not a fallback: nothing failed.
   */
  consulted: boolean;
}

export interface GuardedIntentModelOptions {
  client: ChatCompletionClient;
  /** The served model's name (LLM_MODEL): this adapter's version. */
  model: string;
  /** A turn never waits longer than this for the model (LLM_TURN_DEADLINE_MS). Default 2000. */
  deadlineMs?: number;
  /** The reading the model is checked against and the fallback. Default: the rules model. */
  rules?: IntentModel;
  retry?: {
    /** Retries after the first attempt, each only while the deadline leaves room. Default 2. */
    maxRetries?: number;
    /** First backoff (decorrelated jitter grows it exponentially). Default 50 ms. */
    initialDelayMs?: number;
    /** Largest backoff. Default 250 ms. */
    maxDelayMs?: number;
    /** Time an attempt needs to be worth starting. Default 250 ms. */
    minAttemptMs?: number;
  };
  circuitBreaker?: {
    /** Consecutive failed attempts that open the circuit. Default 5. */
    consecutiveFailures?: number;
    /** Cool-down before a half-open probe. Default 30 s. */
    halfOpenAfterMs?: number;
  };
  bulkhead?: {
    /** Concurrent model calls. Default 8. */
    maxConcurrent?: number;
    /** Calls waiting for a slot (within their deadline); beyond that, fallback at once. Default 16. */
    maxQueued?: number;
  };
  /** Completion token cap: a proposal is small, and a runaway generation is a slow failure. Default 512. */
  maxTokens?: number;
  /** Called once per turn, for metrics and logs. Must not throw (it is isolated if it does). */
  onOutcome?: (outcome: TurnProvenance) => void;
  /** Monotonic milliseconds; tests may pass their own. */
  now?: () => number;
}

export const DEFAULT_TURN_DEADLINE_MS = 2000;
export const ADAPTER_NAME = 'openai-compatible';
/** Below this much time left in the turn, a model call is not started at all. */
const MIN_SEND_MS = 25;
const SCHEMA = { name: 'intent_proposal', schema: proposalJsonSchema() };

/** Kinds the rules reading is final on: the model is not asked (it could only agree or be overruled). */
function consultModel(rules: Understanding): boolean {
  return rules.kind === 'search' || (rules.kind === 'clarify' && rules.reason === 'vague');
}

function failureOf(error: unknown): { reason: FallbackReason; detail: string } {
  if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) {
    return { reason: 'circuit_open', detail: 'the model failed repeatedly; waiting before the next probe' };
  }
  if (error instanceof BulkheadRejectedError) {
    return { reason: 'bulkhead_full', detail: 'every model call slot and queue place is taken' };
  }
  if (error instanceof TaskCancelledError) return { reason: 'timeout', detail: 'the turn deadline passed' };
  if (error instanceof LanguageModelError) return { reason: error.kind, detail: error.message };
  return { reason: 'internal_error', detail: error instanceof Error ? error.message : String(error) };
}

/**
 * The `openai-compatible` adapter of the IntentModel port: a language model (Qwen on DashScope, vLLM,
 * SGLang or Ollama) proposes, and the proposal is used only if it arrives within the turn's deadline,
 * reads as clean JSON of the proposal's schema, names things that exist and agrees with the shopper's
 * own words. Otherwise the turn is answered by the rules model and the fallback is recorded.
 *
 * Policies (cockatiel), outermost first: a timeout bound to what is left of the turn's deadline, then
 * retries with jittered exponential backoff (only while the deadline leaves room), then a circuit
 * breaker over attempts (open: no call at all), then a bulkhead limiting concurrent calls.
 */
export class GuardedIntentModel implements IntentModel {
  readonly name = ADAPTER_NAME;
  readonly version: string;
  readonly deadlineMs: number;
  private readonly client: ChatCompletionClient;
  private readonly rules: IntentModel;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly bulkhead: BulkheadPolicy;
  private readonly retryOptions: Required<NonNullable<GuardedIntentModelOptions['retry']>>;
  private readonly maxTokens: number;
  private readonly now: () => number;
  private readonly onOutcome?: (outcome: TurnProvenance) => void;
  private readonly counts = {
    turns: 0,
    modelAnswers: 0,
    notConsulted: 0,
    fallbacks: {} as Partial<Record<FallbackReason, number>>,
  };

  constructor(options: GuardedIntentModelOptions) {
    this.client = options.client;
    this.version = options.model;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_TURN_DEADLINE_MS;
    if (!Number.isFinite(this.deadlineMs) || this.deadlineMs <= 0) {
      throw new LanguageModelConfigError(`the turn deadline must be a positive number of ms, not ${this.deadlineMs}`);
    }
    this.rules = options.rules ?? new RulesIntentModel();
    this.retryOptions = {
      maxRetries: options.retry?.maxRetries ?? 2,
      initialDelayMs: options.retry?.initialDelayMs ?? 50,
      maxDelayMs: options.retry?.maxDelayMs ?? 250,
      minAttemptMs: options.retry?.minAttemptMs ?? 250,
    };
    // Every failed attempt counts, whatever its kind: a model that answers garbage is as broken as one
    // that answers 500. Our own cancellations (a queued call whose turn ended) and rejections by the
    // bulkhead are not the model's failures.
    this.breaker = circuitBreaker(
      handleWhen((e) => e instanceof LanguageModelError),
      {
        halfOpenAfter: options.circuitBreaker?.halfOpenAfterMs ?? 30_000,
        breaker: new ConsecutiveBreaker(options.circuitBreaker?.consecutiveFailures ?? 5),
      },
    );
    this.bulkhead = bulkhead(options.bulkhead?.maxConcurrent ?? 8, options.bulkhead?.maxQueued ?? 16);
    this.maxTokens = options.maxTokens ?? 512;
    this.now = options.now ?? (() => performance.now());
    this.onOutcome = options.onOutcome;
  }

  /**
   * From ASSENT_MODEL=openai-compatible, LLM_BASE_URL, LLM_API_KEY, LLM_MODEL and LLM_TURN_DEADLINE_MS
   * (default 2000). Throws a LanguageModelConfigError naming every missing or invalid variable.
   */
  static fromEnvironment(
    env: Record<string, string | undefined> = process.env,
    overrides: Partial<Omit<GuardedIntentModelOptions, 'client' | 'model'>> = {},
  ): GuardedIntentModel {
    const config = languageModelConfig(env);
    const client = new OpenAiCompatibleClient({ baseUrl: config.baseUrl, apiKey: config.apiKey, model: config.model });
    return new GuardedIntentModel({ deadlineMs: config.deadlineMs, ...overrides, client, model: config.model });
  }

  /** The circuit's state, for health and metrics. */
  get circuitState(): 'closed' | 'open' | 'half_open' | 'isolated' {
    return (['closed', 'open', 'half_open', 'isolated'] as const)[this.breaker.state];
  }

  /** Turns answered, by the model and by each fallback reason, since start. */
  stats(): {
    turns: number;
    modelAnswers: number;
    notConsulted: number;
    fallbacks: Partial<Record<FallbackReason, number>>;
  } {
    return { ...this.counts, fallbacks: { ...this.counts.fallbacks } };
  }

  async understand(input: UnderstandInput): Promise<Understanding> {
    return (await this.understandWithProvenance(input)).understanding;
  }

  async understandWithProvenance(input: UnderstandInput): Promise<TurnProvenance> {
    const started = this.now();
    const rules = await this.rules.understand(input);
    const byRules = (reason: FallbackReason, detail: string, extra: Partial<TurnProvenance> = {}): TurnProvenance => ({
      understanding: rules,
      model: { name: this.rules.name, version: this.rules.version },
      fallback: { reason, detail },
      modelMs: 0,
      attempts: 0,
      dropped: [],
      consulted: true,
      ...extra,
    });
    if (!consultModel(rules)) {
      return this.record({ ...byRules('internal_error', ''), fallback: null, consulted: false });
    }
    const remaining = this.deadlineMs - (this.now() - started);
    if (remaining < 1) return this.record(byRules('timeout', 'no time left for the model this turn'));

    const modelStarted = this.now();
    const attempts = { count: 0 };
    let proposal: IntentProposal;
    try {
      proposal = await this.callModel(input, remaining, started, attempts);
    } catch (e) {
      const { reason, detail } = failureOf(e);
      return this.record(byRules(reason, detail, { modelMs: this.now() - modelStarted, attempts: attempts.count }));
    }
    const modelMs = this.now() - modelStarted;
    const grounding = groundProposal(proposal, input, rules);
    if (!grounding.trusted) {
      return this.record(
        byRules('untrusted', grounding.reason, { modelMs, attempts: attempts.count, dropped: grounding.dropped }),
      );
    }
    return this.record({
      understanding: grounding.understanding,
      model: { name: this.name, version: this.version },
      fallback: null,
      modelMs,
      attempts: attempts.count,
      dropped: grounding.dropped,
      consulted: true,
    });
  }

  private callModel(
    input: UnderstandInput,
    remainingMs: number,
    turnStarted: number,
    attempts: { count: number },
  ): Promise<IntentProposal> {
    const { maxRetries, initialDelayMs, maxDelayMs, minAttemptMs } = this.retryOptions;
    const left = (): number => this.deadlineMs - (this.now() - turnStarted);
    // Per turn: the timeout is what is left of this turn's deadline, and the retry filter knows it.
    const deadline = timeout(Math.max(1, Math.floor(remainingMs)), TimeoutStrategy.Aggressive);
    const retries = retry(
      handleWhen(
        (e) =>
          e instanceof LanguageModelError &&
          e.retryable &&
          (e.retryAfterMs ?? 0) <= maxDelayMs &&
          left() - maxDelayMs >= minAttemptMs,
      ),
      {
        maxAttempts: maxRetries,
        backoff: new ExponentialBackoff({ initialDelay: initialDelayMs, maxDelay: maxDelayMs }),
      },
    );
    const messages = buildMessages(input);
    return wrap(deadline, retries, this.breaker, this.bulkhead).execute(async ({ signal }) => {
      // A call that waited in the bulkhead's queue until its turn was nearly over is not sent: the
      // answer could not arrive in time, and the server has better things to do.
      if (signal.aborted || left() < MIN_SEND_MS) throw new TaskCancelledError('no time left for a model call');
      attempts.count++;
      const completion = await this.client.complete({ messages, schema: SCHEMA, signal, maxTokens: this.maxTokens });
      return parseProposal(completion.content);
    });
  }

  private record(outcome: TurnProvenance): TurnProvenance {
    this.counts.turns++;
    if (outcome.fallback) {
      const r = outcome.fallback.reason;
      this.counts.fallbacks[r] = (this.counts.fallbacks[r] ?? 0) + 1;
    } else if (outcome.consulted) this.counts.modelAnswers++;
    else this.counts.notConsulted++;
    try {
      this.onOutcome?.(outcome);
    } catch {
      // An observer's bug must not turn into a failed turn.
    }
    return outcome;
  }
}

export interface LanguageModelConfig {
  baseUrl: string;
  apiKey: string;
  model: string;
  deadlineMs: number;
}

/** Reads and checks the language model's environment; every problem is named in one error. */
export function languageModelConfig(env: Record<string, string | undefined>): LanguageModelConfig {
  const problems: string[] = [];
  if (env.ASSENT_MODEL !== ADAPTER_NAME) {
    problems.push(`ASSENT_MODEL is "${env.ASSENT_MODEL ?? ''}", not "${ADAPTER_NAME}"`);
  }
  const baseUrl = env.LLM_BASE_URL?.trim() ?? '';
  if (!baseUrl) {
    problems.push('LLM_BASE_URL is not set (the OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 for vLLM)');
  } else if (!/^https?:\/\/[^/\s]+/i.test(baseUrl)) {
    problems.push(`LLM_BASE_URL "${baseUrl}" is not an http(s) URL`);
  }
  const model = env.LLM_MODEL?.trim() ?? '';
  if (!model) problems.push('LLM_MODEL is not set (the served model, e.g. qwen-plus or Qwen/Qwen2.5-7B-Instruct)');
  if (env.LLM_API_KEY === undefined) {
    problems.push('LLM_API_KEY is not set (set it empty for a server without authentication)');
  }
  let deadlineMs = DEFAULT_TURN_DEADLINE_MS;
  const rawDeadline = env.LLM_TURN_DEADLINE_MS?.trim();
  if (rawDeadline) {
    deadlineMs = Number(rawDeadline);
    if (!/^\d+$/.test(rawDeadline) || deadlineMs < 100 || deadlineMs > 60_000) {
      problems.push(`LLM_TURN_DEADLINE_MS "${rawDeadline}" must be a whole number of milliseconds from 100 to 60000`);
    }
  }
  if (problems.length > 0) {
    throw new LanguageModelConfigError(`the openai-compatible intent model is misconfigured: ${problems.join('; ')}`);
  }
  return { baseUrl, apiKey: env.LLM_API_KEY ?? '', model, deadlineMs };
}

/**
 * The intent model ASSENT_MODEL asks for: `rules` (the default, also when unset) or `openai-compatible`.
 * An unknown name is an error, not a silent default: a typo must not quietly turn the model off.
 */
export function intentModelFromEnvironment(env: Record<string, string | undefined> = process.env): IntentModel {
  const name = env.ASSENT_MODEL?.trim() || 'rules';
  if (name === 'rules') return new RulesIntentModel();
  if (name === ADAPTER_NAME) return GuardedIntentModel.fromEnvironment(env);
  throw new LanguageModelConfigError(`ASSENT_MODEL "${name}" is not an intent model: use "rules" or "${ADAPTER_NAME}"`);
}
