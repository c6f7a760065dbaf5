import { decodeUtf8, jsonStructure } from './corruption';
import { LanguageModelConfigError, LanguageModelError } from './errors';
import type { ChatMessage } from './prompt';

export interface ChatCompletionRequest {
  messages: ChatMessage[];
  /** The answer's JSON schema, sent as `response_format: {type: 'json_schema'}`. */
  schema: { name: string; schema: Record<string, unknown> };
  /** Aborts the request, the wait for headers and the read of the body alike. */
  signal?: AbortSignal;
  maxTokens?: number;
}

export interface ChatCompletion {
  /** The first choice's message content, as sent. */
  content: string;
  finishReason: string | null;
  /** The model the server says answered. */
  model: string | null;
  status: number;
}

/** The one thing the guarded model needs from a client (tests substitute their own). */
export interface ChatCompletionClient {
  complete(request: ChatCompletionRequest): Promise<ChatCompletion>;
}

export interface OpenAiCompatibleClientOptions {
  /** E.g. `https://dashscope-intl.aliyuncs.com/compatible-mode/v1`, `http://127.0.0.1:8000/v1` (vLLM). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; omitted when empty (a local Ollama or vLLM without auth). */
  apiKey?: string;
  model: string;
  /** An answer is a small JSON object; a bigger body is a misbehaving server, not an answer. Default 1 MiB. */
  maxResponseBytes?: number;
  /** Server-specific request fields (`{enable_thinking: false}` for DashScope's Qwen3, `chat_template_kwargs` for vLLM). */
  extraBody?: Record<string, unknown>;
  /** Defaults to Node's global fetch (undici), which trusts `NODE_EXTRA_CA_CERTS`. */
  fetch?: typeof fetch;
}

/** The deepest `code` in an error's cause chain: undici wraps the socket's error as `cause`. */
function errorCode(error: unknown): string | undefined {
  let code: string | undefined;
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') code = c;
    e = (e as { cause?: unknown }).cause;
  }
  return code;
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * A client of the OpenAI-compatible chat completions API (DashScope compatible mode, vLLM, SGLang,
 * Ollama). One request, no retries and no deadline of its own: those belong to the caller's
 * policies, which pass a signal. Every failure is a LanguageModelError saying what kind it was.
 */
export class OpenAiCompatibleClient implements ChatCompletionClient {
  private readonly url: string;
  private readonly fetch: typeof fetch;
  private readonly maxResponseBytes: number;

  constructor(private readonly options: OpenAiCompatibleClientOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new LanguageModelConfigError(`LLM base URL "${options.baseUrl}" is not a URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new LanguageModelConfigError(`LLM base URL "${options.baseUrl}" must be http or https`);
    }
    if (!options.model) throw new LanguageModelConfigError('LLM model name is empty');
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
  }

  get model(): string {
    return this.options.model;
  }

  async complete(request: ChatCompletionRequest): Promise<ChatCompletion> {
    const { signal } = request;
    const timedOut = (cause?: unknown): LanguageModelError =>
      new LanguageModelError('timeout', 'the model call was cancelled at its deadline', { cause });
    if (signal?.aborted) throw timedOut();

    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    const body = {
      ...this.options.extraBody,
      model: this.options.model,
      messages: request.messages,
      temperature: 0,
      stream: false,
      response_format: {
        type: 'json_schema',
        json_schema: { name: request.schema.name, schema: request.schema.schema, strict: true },
      },
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
    };

    let response: Response;
    try {
      response = await this.fetch(this.url, { method: 'POST', headers, body: JSON.stringify(body), signal });
    } catch (e) {
      if (signal?.aborted) throw timedOut(e);
      const code = errorCode(e);
      throw new LanguageModelError('transport', `model request failed: ${code ?? (e as Error).message}`, {
        code,
        cause: e,
      });
    }

    if (!response.ok) {
      const status = response.status;
      const detail = await this.readText(response, 500).catch(() => '');
      const details = { status, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
      const message = `model server answered ${status}${detail ? `: ${detail}` : ''}`;
      if (status === 429) throw new LanguageModelError('rate_limited', message, details);
      if (status >= 500) throw new LanguageModelError('server_error', message, details);
      throw new LanguageModelError('http_error', message, details);
    }

    let bytes: Uint8Array;
    try {
      bytes = await this.readBody(response);
    } catch (e) {
      if (e instanceof LanguageModelError) throw e;
      if (signal?.aborted) throw timedOut(e);
      // The headers came, the body stopped: the server or a proxy closed the connection mid-answer.
      throw new LanguageModelError('truncated', `the response body was cut short (${errorCode(e) ?? 'terminated'})`, {
        status: response.status,
        code: errorCode(e),
        cause: e,
      });
    }

    const text = decodeUtf8(bytes);
    if (text === null) {
      throw new LanguageModelError('corrupted', 'the response body is not valid UTF-8', { status: response.status });
    }
    let envelope: unknown;
    try {
      envelope = JSON.parse(text);
    } catch {
      const structure = jsonStructure(text);
      throw new LanguageModelError(
        structure?.reason === 'truncated' ? 'truncated' : 'invalid_json',
        `the response body is not JSON${structure ? ` (${structure.detail})` : ''}`,
        { status: response.status },
      );
    }
    return this.completion(envelope, response.status);
  }

  private completion(envelope: unknown, status: number): ChatCompletion {
    const e = envelope as {
      model?: unknown;
      choices?: Array<{ finish_reason?: unknown; message?: { content?: unknown; refusal?: unknown } }>;
    };
    const choice = Array.isArray(e?.choices) ? e.choices[0] : undefined;
    const content = choice?.message?.content;
    const finishReason = typeof choice?.finish_reason === 'string' ? choice.finish_reason : null;
    if (finishReason === 'length') {
      throw new LanguageModelError('truncated', 'the model stopped at its token limit', { status });
    }
    if (typeof content !== 'string' || content.length === 0) {
      const refusal = typeof choice?.message?.refusal === 'string' ? `: refused: ${choice.message.refusal}` : '';
      throw new LanguageModelError('empty_response', `the response has no message content${refusal}`, { status });
    }
    return { content, finishReason, model: typeof e.model === 'string' ? e.model : null, status };
  }

  private async readBody(response: Response): Promise<Uint8Array> {
    if (!response.body) return new Uint8Array();
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > this.maxResponseBytes) {
        await reader.cancel().catch(() => undefined);
        throw new LanguageModelError('invalid_json', `the response is larger than ${this.maxResponseBytes} bytes`, {
          status: response.status,
        });
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks);
  }

  private async readText(response: Response, max: number): Promise<string> {
    const text = await response.text();
    return text.slice(0, max).replace(/\s+/g, ' ').trim();
  }
}
