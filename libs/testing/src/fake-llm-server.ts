import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A local OpenAI-compatible chat completions server for tests of language model clients: each
 * request is answered by a behaviour the test chose (a valid answer, a slow one, a 5xx, a reset, a
 * body cut in half, garbage). Delays are timers cleared when the client hangs up, so a test can ask
 * for a ten-minute answer and rely on the client giving up at its deadline; `close()` ends everything.
 */

/** One request as the server saw it. */
export interface FakeLlmRequest {
  /** 0-based, in arrival order. */
  index: number;
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body (the raw text when it was not JSON). */
  body: unknown;
  /** `Date.now()` when the request arrived. */
  receivedAt: number;
  /** The client hung up before the response was complete (an abort at its deadline, typically). */
  abandoned: boolean;
  /** The behaviour the request was answered with. */
  behaviour: FakeLlmBehaviour['kind'];
}

/** A chat completion answer: an object to send as the message content (JSON-encoded), or the content verbatim. */
type Answer = { proposal: object | ((request: FakeLlmRequest) => unknown) } | { content: string };

export type FakeLlmBehaviour =
  /** 200 with the proposal (or a callback's proposal, computed from the request) as the content. */
  | ({ kind: 'answer'; delayMs?: number; finishReason?: string } & Answer)
  /** Any status, e.g. 500, 503 or 429 (with `headers: {'retry-after': '1'}`). */
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  /** A body written as given: an envelope that is not JSON, or bytes that are not UTF-8. */
  | { kind: 'raw'; body: string | Buffer; status?: number; contentType?: string; delayMs?: number }
  /** The connection is reset before any response. */
  | { kind: 'reset'; delayMs?: number }
  /** The request is read and never answered. */
  | { kind: 'hang' }
  /** Headers and half the body are sent, then nothing more (a stream that stops mid-way). */
  | ({ kind: 'stall_mid_body' } & Answer)
  /** Headers and half the body are sent, then the connection is closed. */
  | ({ kind: 'cut_mid_body' } & Answer);

export type FakeLlmScript = FakeLlmBehaviour | ((request: FakeLlmRequest) => FakeLlmBehaviour);

export interface FakeLlmServerOptions {
  /** Serve https with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** What requests get when nothing is queued. Default: `{kind: 'status', status: 500}`. */
  fallback?: FakeLlmScript;
}

export interface FakeLlmServer {
  /** The base URL to give a client, ending in `/v1`. */
  readonly baseUrl: string;
  readonly port: number;
  readonly requests: FakeLlmRequest[];
  /** Requests being handled right now, and the most there ever were at once. */
  readonly concurrent: number;
  readonly maxConcurrent: number;
  /** Queues behaviours for the next requests, in order (a script); after them, the fallback answers. */
  enqueue(...behaviours: FakeLlmScript[]): void;
  /** Sets what requests get when the queue is empty. */
  setFallback(behaviour: FakeLlmScript): void;
  /** Forgets requests and concurrency counts (not the script). */
  reset(): void;
  close(): Promise<void>;
}

function envelope(model: unknown, content: string, finishReason = 'stop'): string {
  return JSON.stringify({
    id: `chatcmpl-fake-${Math.random().toString(36).slice(2)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: typeof model === 'string' ? model : 'fake',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });
}

function contentOf(answer: Answer, request: FakeLlmRequest): string {
  if ('content' in answer) return answer.content;
  const p = typeof answer.proposal === 'function' ? answer.proposal(request) : answer.proposal;
  return JSON.stringify(p);
}

/** The shopper's message in a chat completions request body (the last user message). */
export function userText(request: FakeLlmRequest): string {
  const messages = (request.body as { messages?: Array<{ role?: string; content?: unknown }> })?.messages ?? [];
  const user = messages.filter((m) => m.role === 'user').pop();
  return typeof user?.content === 'string' ? user.content : '';
}

export async function startFakeLlmServer(options: FakeLlmServerOptions = {}): Promise<FakeLlmServer> {
  const queue: FakeLlmScript[] = [];
  let fallback: FakeLlmScript = options.fallback ?? { kind: 'status', status: 500, body: 'no behaviour queued' };
  const requests: FakeLlmRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let concurrent = 0;
  let maxConcurrent = 0;

  const later = (ms: number | undefined, res: ServerResponse, fn: () => void): void => {
    if (!ms) return fn();
    const t = setTimeout(() => {
      timers.delete(t);
      if (!res.destroyed) fn();
    }, ms);
    timers.add(t);
    // The client gave up: nothing left to send, and the test must not wait for the timer.
    res.on('close', () => {
      clearTimeout(t);
      timers.delete(t);
    });
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Kept as text: a client sending non-JSON is something a test may want to see.
      }
      const record: FakeLlmRequest = {
        index: requests.length,
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        receivedAt: Date.now(),
        abandoned: false,
        behaviour: 'status',
      };
      requests.push(record);
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      res.on('close', () => {
        concurrent--;
        if (!res.writableFinished) record.abandoned = true;
      });

      const script = queue.length > 0 ? (queue.shift() as FakeLlmScript) : fallback;
      const b = typeof script === 'function' ? script(record) : script;
      record.behaviour = b.kind;
      const model = (body as { model?: unknown })?.model;

      if (req.url?.replace(/\?.*$/, '') !== '/v1/chat/completions' || req.method !== 'POST') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      switch (b.kind) {
        case 'answer':
          return later(b.delayMs, res, () => {
            const out = envelope(model, contentOf(b, record), b.finishReason);
            res.writeHead(200, { 'content-type': 'application/json' }).end(out);
          });
        case 'status':
          return later(b.delayMs, res, () => {
            res
              .writeHead(b.status, { 'content-type': 'application/json', ...b.headers })
              .end(b.body ?? JSON.stringify({ error: { message: `fake status ${b.status}` } }));
          });
        case 'raw':
          return later(b.delayMs, res, () => {
            res.writeHead(b.status ?? 200, { 'content-type': b.contentType ?? 'application/json' }).end(b.body);
          });
        case 'reset':
          return later(b.delayMs, res, () => {
            const socket = req.socket as Socket & { resetAndDestroy?: () => void };
            if (socket.resetAndDestroy) socket.resetAndDestroy();
            else socket.destroy();
          });
        case 'hang':
          return;
        case 'stall_mid_body':
        case 'cut_mid_body': {
          const out = Buffer.from(envelope(model, contentOf(b, record)));
          // The full length is announced, so the client knows the body is incomplete.
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(out.length) });
          res.write(out.subarray(0, Math.floor(out.length / 2)));
          if (b.kind === 'cut_mid_body') later(20, res, () => req.socket.destroy());
          return;
        }
      }
    });
  };

  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handle)
    : createHttpServer(handle);
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    baseUrl: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/v1`,
    port,
    requests,
    get concurrent() {
      return concurrent;
    },
    get maxConcurrent() {
      return maxConcurrent;
    },
    enqueue: (...behaviours) => void queue.push(...behaviours),
    setFallback: (behaviour) => void (fallback = behaviour),
    reset: () => {
      requests.length = 0;
      maxConcurrent = concurrent;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Content-level failures, for `{kind: 'answer', content}`: what a broken model or decoder sends. */
export const llmGarbage = {
  /** The proposal's JSON, cut off part-way (a stream that ended early). */
  truncatedJson: (proposal: unknown): string => {
    const s = JSON.stringify(proposal);
    return s.slice(0, Math.floor(s.length * 0.6));
  },
  /** Almost JSON: single quotes and a trailing comma. */
  invalidJson: (): string => "{'kind': 'search', 'product_types': ['Coffee Maker'],}",
  /** Printable ASCII noise, deterministic for a seed. */
  spaghetti: (length = 200, seed = 7): string => {
    let x = seed;
    let out = '';
    for (let i = 0; i < length; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      out += String.fromCharCode(33 + (x % 94));
    }
    return out;
  },
  /** The proposal with U+FFFD replacement characters in its strings (a lossy decode). */
  replacementChars: (proposal: unknown): string => JSON.stringify(proposal).replace(/([a-z])([a-z])/g, '$1\uFFFD'),
  /** The proposal with control characters in it. */
  controlChars: (proposal: unknown): string => JSON.stringify(proposal).replace(/ /g, '\u0007'),
  /** UTF-8 read as Latin-1 somewhere on the way. */
  mojibake: (proposal: unknown): string => Buffer.from(JSON.stringify(proposal).replace(/e/g, 'é')).toString('latin1'),
  /** A proposal in the wrong script. */
  cjk: (): string =>
    JSON.stringify({ kind: 'search', product_types: ['咖啡机', '浓缩咖啡机'], note: '这是一个很好的咖啡机' }),
};
