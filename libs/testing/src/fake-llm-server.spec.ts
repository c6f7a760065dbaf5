import { llmGarbage, startFakeLlmServer, userText, type FakeLlmServer } from './fake-llm-server';

const post = (server: FakeLlmServer, body: unknown, signal?: AbortSignal): Promise<Response> =>
  fetch(`${server.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });

describe('startFakeLlmServer', () => {
  let server: FakeLlmServer;
  beforeEach(async () => {
    server = await startFakeLlmServer();
  });
  afterEach(() => server.close());

  it('answers with a proposal computed from the request, and records the request', async () => {
    server.setFallback({ kind: 'answer', proposal: (req) => ({ echo: userText(req) }) });
    const res = await post(server, { model: 'm', messages: [{ role: 'user', content: 'a kettle' }] });
    const body = (await res.json()) as { model: string; choices: Array<{ message: { content: string } }> };
    expect(body.model).toBe('m');
    expect(JSON.parse(body.choices[0].message.content)).toEqual({ echo: 'a kettle' });
    expect(server.requests).toMatchObject([{ index: 0, path: '/v1/chat/completions', behaviour: 'answer' }]);
  });

  it('plays a script in order, then the fallback', async () => {
    server.enqueue({ kind: 'status', status: 429 }, { kind: 'status', status: 503 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(server, {})).status);
    expect(statuses).toEqual([429, 503, 500]);
  });

  it('gives up a long delay when the client hangs up, and counts concurrency', async () => {
    server.setFallback({ kind: 'answer', content: '{}', delayMs: 10 * 60_000 });
    const controller = new AbortController();
    const calls = [post(server, {}, controller.signal), post(server, {}, controller.signal)].map((p) =>
      p.catch((e: Error) => e.name),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(server.concurrent).toBe(2);
    controller.abort();
    expect(await Promise.all(calls)).toEqual(['AbortError', 'AbortError']);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.concurrent).toBe(0);
    expect(server.maxConcurrent).toBe(2);
    expect(server.requests.every((r) => r.abandoned)).toBe(true);
  });

  it('resets connections and cuts bodies', async () => {
    server.enqueue({ kind: 'reset' }, { kind: 'cut_mid_body', content: '{"a":1}' });
    await expect(post(server, {})).rejects.toThrow();
    const res = await post(server, {});
    await expect(res.text()).rejects.toThrow();
  });

  it('makes garbage of a proposal in the ways models and decoders do', () => {
    const p = { kind: 'search', product_types: ['Coffee Maker'] };
    expect(() => JSON.parse(llmGarbage.truncatedJson(p))).toThrow();
    expect(llmGarbage.replacementChars(p)).toContain('\uFFFD');
    expect(llmGarbage.spaghetti(50)).toHaveLength(50);
    expect(llmGarbage.mojibake(p)).toMatch(/Ã©/);
  });
});
