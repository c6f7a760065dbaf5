import { setTimeout as sleep } from 'node:timers/promises';

/** A small client for the shopper API, used by the batch runner and the terminal chat. */
export interface ShopperTurn {
  turn_id: string;
  kind: string;
  reply: string;
  suggestions: unknown[];
  alternatives: unknown[];
  summary: unknown;
  order_id: string | null;
  confirmation: unknown;
}

export class ShopperClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    /** Each request's own limit. */
    private readonly timeoutMs = 60000,
    /** Aborts everything this client does (the batch's per-conversation deadline). */
    private readonly signal?: AbortSignal,
  ) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: this.signal
        ? AbortSignal.any([this.signal, AbortSignal.timeout(this.timeoutMs)])
        : AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as T) : (undefined as T);
    if (!response.ok) {
      const detail = (parsed as { detail?: string } | undefined)?.detail ?? text;
      throw new Error(`${method} ${path}: ${response.status} ${detail}`);
    }
    return { status: response.status, body: parsed };
  }

  async startConversation(): Promise<string> {
    return (await this.request<{ id: string }>('POST', '/v1/conversations', {})).body.id;
  }

  /** Says something and returns the turn, polling while it is still pending. */
  async say(conversationId: string, text: string, deadlineMs = 30000): Promise<ShopperTurn> {
    const deadline = Date.now() + deadlineMs;
    let turn = (await this.request<ShopperTurn>('POST', `/v1/conversations/${conversationId}/messages`, { text })).body;
    while (turn.kind === 'pending' && Date.now() < deadline) {
      await sleep(100, undefined, { signal: this.signal });
      turn = (await this.request<ShopperTurn>('GET', `/v1/conversations/${conversationId}/turns/${turn.turn_id}`)).body;
    }
    return turn;
  }
}
