import { trace } from '@opentelemetry/api';
import { createLogger, REDACTED, REDACT_PATHS } from './logger';
import { PinoNestLogger } from './nest-logger';
import { type InMemoryTelemetry, startInMemoryTelemetry } from './testing';

/** A pino destination that keeps the parsed lines. */
function capture() {
  const lines: Array<Record<string, unknown>> = [];
  return {
    lines,
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  };
}

describe('createLogger', () => {
  let otel: InMemoryTelemetry;
  // These tests log at info; a LOG_LEVEL from the caller's shell must not silence them.
  const level = process.env.LOG_LEVEL;
  beforeAll(() => {
    delete process.env.LOG_LEVEL;
    otel = startInMemoryTelemetry('logger-spec');
  });
  afterAll(() => {
    if (level !== undefined) process.env.LOG_LEVEL = level;
    return otel.shutdown();
  });

  it('stamps trace_id and span_id of the active span, service, ISO time and level label', () => {
    const { lines, destination } = capture();
    const log = createLogger('intent', { destination });

    const ids = trace.getTracer('spec').startActiveSpan('work', (span) => {
      log.info({ intentId: 'i1' }, 'inside');
      span.end();
      return span.spanContext();
    });
    log.info('outside');

    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'intent',
      msg: 'inside',
      intentId: 'i1',
      trace_id: ids.traceId,
      span_id: ids.spanId,
      trace_flags: '01',
    });
    expect(new Date(lines[0].time as string).toISOString()).toBe(lines[0].time);
    expect(lines[1]).not.toHaveProperty('trace_id');
    expect(lines[1]).not.toHaveProperty('span_id');
  });

  it('redacts personal data and credentials by path', () => {
    const { lines, destination } = capture();
    const log = createLogger('intent', { destination });
    log.info(
      {
        email: 'ann@example.com',
        user: { id: 'u1', name: 'Ann Smith', email: 'ann@example.com' },
        order: { id: 'o1', customer: { name: 'Ann', email: 'ann@example.com', address: '1 High St' } },
        req: { method: 'GET', headers: { authorization: 'Bearer abc', 'set-cookie': 's=1', accept: 'json' } },
        payment_method: 'pm_123',
        product: { name: 'Kettle' },
      },
      'checkout',
    );
    const line = JSON.stringify(lines[0]);
    expect(line).not.toContain('ann@example.com');
    expect(line).not.toContain('Ann');
    expect(line).not.toContain('Bearer');
    expect(line).not.toContain('pm_123');
    expect(lines[0]).toMatchObject({
      email: REDACTED,
      user: { id: 'u1', name: REDACTED, email: REDACTED },
      order: { id: 'o1', customer: { name: REDACTED, email: REDACTED, address: REDACTED } },
      req: { method: 'GET', headers: { authorization: REDACTED, 'set-cookie': REDACTED, accept: 'json' } },
      payment_method: REDACTED,
      product: { name: 'Kettle' }, // a product's name is not personal data
    });
    expect(REDACT_PATHS).toEqual(
      expect.arrayContaining(['email', '*.email', '*.*.email', 'user.name', '*.authorization']),
    );
  });

  it('takes its level from LOG_LEVEL, falling back to info', () => {
    const saved = process.env.LOG_LEVEL;
    try {
      process.env.LOG_LEVEL = 'debug';
      expect(createLogger('x', capture()).level).toBe('debug');
      process.env.LOG_LEVEL = 'chatty';
      expect(createLogger('x', capture()).level).toBe('info');
      delete process.env.LOG_LEVEL;
      expect(createLogger('x', capture()).level).toBe('info');
    } finally {
      if (saved === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = saved;
    }
  });
});

describe('PinoNestLogger', () => {
  it('maps Nest levels, context and stack to pino fields', () => {
    const { lines, destination } = capture();
    const logger = new PinoNestLogger('intent', { destination, level: 'trace' });
    logger.log('started', 'Bootstrap');
    logger.error('failed', 'Error: x\n    at f (a.ts:1:1)', 'Handler');
    logger.error('stack only', 'Error: y\n    at g (b.ts:2:2)');
    logger.warn({ email: 'a@b.c', reason: 'slow' }, 'Projector');
    logger.verbose('details');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', msg: 'started', context: 'Bootstrap', service: 'intent' }),
      expect.objectContaining({
        level: 'error',
        msg: 'failed',
        context: 'Handler',
        stack: 'Error: x\n    at f (a.ts:1:1)',
      }),
      expect.objectContaining({ level: 'error', msg: 'stack only', stack: 'Error: y\n    at g (b.ts:2:2)' }),
      expect.objectContaining({ level: 'warn', context: 'Projector', reason: 'slow', email: REDACTED }),
      expect.objectContaining({ level: 'trace', msg: 'details' }),
    ]);
    expect(lines[2]).not.toHaveProperty('context');

    logger.setLogLevels(['error', 'warn']);
    logger.log('dropped');
    expect(lines).toHaveLength(5);
  });
});
