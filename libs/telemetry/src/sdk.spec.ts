import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { withProducerSpan } from './kafka';
import { activeTelemetry, startTelemetry } from './sdk';

// What goes over OTLP/HTTP is tested in process.spec.ts, in real child processes: the OTLP
// exporter loads node:http with a dynamic import(), which jest's VM refuses without
// --experimental-vm-modules.
describe('startTelemetry', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    for (const key of Object.keys(process.env)) if (key.startsWith('OTEL_')) delete process.env[key];
  });
  afterEach(async () => {
    await activeTelemetry()?.shutdown();
    process.env = { ...saved };
  });

  it('is idempotent, takes span processors, and lets OTEL_SERVICE_NAME override the code', async () => {
    process.env.OTEL_SERVICE_NAME = 'from-env';
    const exporter = new InMemorySpanExporter();
    const processor = new SimpleSpanProcessor({ exporter });
    const telemetry = startTelemetry({ serviceName: 'from-code', spanProcessors: [processor], instrumentations: [] });
    expect(telemetry.enabled).toBe(true);
    expect(startTelemetry({ serviceName: 'again' })).toBe(telemetry);

    trace.getTracer('spec').startSpan('one').end();
    await processor.forceFlush(); // export waits for the async resource detectors (host, process)
    const [span] = exporter.getFinishedSpans();
    expect(span.resource.attributes['service.name']).toBe('from-env');

    await telemetry.shutdown();
    expect(activeTelemetry()).toBeUndefined();
  });

  it('uses the service name from code when OTEL_SERVICE_NAME is unset', async () => {
    const exporter = new InMemorySpanExporter();
    const processor = new SimpleSpanProcessor({ exporter });
    startTelemetry({ serviceName: 'from-code', spanProcessors: [processor], instrumentations: [] });
    trace.getTracer('spec').startSpan('one').end();
    await processor.forceFlush();
    expect(exporter.getFinishedSpans()[0].resource.attributes['service.name']).toBe('from-code');
  });

  it('with OTEL_TRACES_EXPORTER=none records nothing but still propagates the caller context', async () => {
    process.env.OTEL_TRACES_EXPORTER = 'none';
    startTelemetry({ serviceName: 'quiet', instrumentations: [] });
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const forwarded = await withProducerSpan('send t', incoming, { topic: 't' }, (span, headers) => {
      expect(span.isRecording()).toBe(false);
      return headers.traceparent;
    });
    expect(forwarded).toBe(incoming);
  });

  it('does nothing with OTEL_SDK_DISABLED=true', () => {
    process.env.OTEL_SDK_DISABLED = 'true';
    const telemetry = startTelemetry({ serviceName: 'off' });
    expect(telemetry.enabled).toBe(false);
    expect(trace.getTracer('spec').startSpan('one').isRecording()).toBe(false);
  });
});
