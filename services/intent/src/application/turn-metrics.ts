import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '@assent/runtime';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

/** Per-turn latency accounting as Prometheus histograms (also written into each turn's event). */
@Injectable()
export class TurnMetrics {
  private static shared: {
    turn: Histogram<'kind'>;
    model: Histogram<'model' | 'outcome'>;
    catalog: Histogram;
    fallbacks: Counter<'from' | 'reason'>;
  } | null = null;

  private readonly m = (TurnMetrics.shared ??= {
    turn: new Histogram({
      name: 'assent_turn_duration_seconds',
      help: "From the shopper's utterance to the turn's answer",
      labelNames: ['kind'],
      buckets: SECONDS,
      registers: [metricsRegistry],
    }),
    model: new Histogram({
      name: 'assent_intent_model_duration_seconds',
      help: 'Understanding one utterance, by the model that answered and whether it was a fallback',
      labelNames: ['model', 'outcome'],
      buckets: SECONDS,
      registers: [metricsRegistry],
    }),
    catalog: new Histogram({
      name: 'assent_turn_catalog_duration_seconds',
      help: 'The catalog search and ranking of a search turn',
      buckets: SECONDS,
      registers: [metricsRegistry],
    }),
    fallbacks: new Counter({
      name: 'assent_intent_model_fallbacks_total',
      help: 'Turns the rules model answered because the configured model could not be used',
      labelNames: ['from', 'reason'],
      registers: [metricsRegistry],
    }),
  });

  understood(model: string, modelMs: number, fallback: { from: string; reason: string } | null): void {
    this.m.model.observe({ model, outcome: fallback ? 'fallback' : 'ok' }, modelMs / 1000);
    if (fallback) this.m.fallbacks.inc({ from: fallback.from, reason: fallback.reason });
  }

  answered(kind: string, timings: { catalogMs: number | null; totalMs: number }): void {
    this.m.turn.observe({ kind }, timings.totalMs / 1000);
    if (timings.catalogMs !== null) this.m.catalog.observe(timings.catalogMs / 1000);
  }
}
