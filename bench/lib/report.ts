import { performance, PerformanceObserver } from 'node:perf_hooks';

/** One measured figure and its same-run baseline. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline: number;
}

function num(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  // Six significant digits, never exponent notation for the magnitudes measured here.
  return String(Number(n.toPrecision(6)));
}

/** `BENCH <name> value=<n> unit=<u> baseline=<n> ratio=<value/baseline>` */
export function formatFigure(f: Figure): string {
  const ratio = f.baseline === 0 ? NaN : f.value / f.baseline;
  return `BENCH ${f.name} value=${num(f.value)} unit=${f.unit} baseline=${num(f.baseline)} ratio=${ratio.toFixed(3)}`;
}

/** Events per second from a count and the milliseconds they took. */
export function perSecond(events: number, ms: number): number {
  return (events / ms) * 1000;
}

/** The machine-readable lines go to stdout; everything else goes to stderr. */
export function emit(f: Figure): void {
  process.stdout.write(`${formatFigure(f)}\n`);
}

export function log(message: string): void {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${message}\n`);
}
const started = performance.now();

/** Extra numbers that explain a figure (where time goes); not BENCH lines. */
export function diag(name: string, fields: Record<string, number | string>): void {
  const parts = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'number' ? num(v) : v}`);
  process.stderr.write(`DIAG ${name} ${parts.join(' ')}\n`);
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of nothing');
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export const now = (): number => performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Counts arrivals; `waitFor(n)` resolves when n have arrived, or rejects after a timeout. */
export class Counter {
  count = 0;
  private waiter: { n: number; resolve: () => void } | null = null;

  hit(): void {
    this.count++;
    if (this.waiter && this.count >= this.waiter.n) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve();
    }
  }

  waitFor(n: number, timeoutMs: number, what: string, failure?: () => string | undefined): Promise<void> {
    if (this.count >= n) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        const extra = failure?.();
        reject(new Error(`${what}: only ${this.count} of ${n} after ${timeoutMs} ms${extra ? ` (${extra})` : ''}`));
      }, timeoutMs);
      this.waiter = {
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
  }
}

/**
 * Open-loop pacing: calls `fire(i)` for i = 0..count-1 at start + i * (1000 / ratePerSec) ms,
 * whether or not earlier calls finished. Returns the worst lateness of a call against its slot.
 */
export async function openLoop(
  ratePerSec: number,
  count: number,
  fire: (i: number) => void,
): Promise<{ maxLagMs: number }> {
  const interval = 1000 / ratePerSec;
  const start = now();
  let i = 0;
  let maxLagMs = 0;
  while (i < count) {
    const t = now();
    while (i < count && start + i * interval <= t) {
      maxLagMs = Math.max(maxLagMs, t - (start + i * interval));
      fire(i++);
    }
    if (i < count) await sleep(Math.max(0, Math.min(5, start + i * interval - now())));
  }
  return { maxLagMs };
}

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** A cpuMeter reading as DIAG fields, with the machine's CPU time per event over `events`. */
export function cpuFields(usage: ReturnType<ReturnType<typeof cpuMeter>>, events: number): Record<string, number> {
  return {
    machine_cpu_pct: usage.machineBusyPct,
    machine_cpu_ms_per_event: usage.machineCpuMs / events,
    node_cpu_pct: usage.nodeCpuPct,
    event_loop_pct: usage.eventLoopPct,
    gc_pct: usage.gcPct,
    heap_growth_bytes_per_event: usage.heapGrowthBytes / events,
  };
}

/** Milliseconds this process has spent in garbage collection since the first cpuMeter(). */
let gcMs = 0;
let gcObserver: PerformanceObserver | undefined;
function watchGc(): void {
  if (gcObserver) return;
  gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  gcObserver.observe({ entryTypes: ['gc'] });
}

/** Machine-wide and this process's CPU use between `cpuMeter()` and the returned function's call. */
export function cpuMeter(): () => {
  machineBusyPct: number;
  machineCpuMs: number;
  nodeCpuPct: number;
  eventLoopPct: number;
  gcPct: number;
  heapGrowthBytes: number;
} {
  watchGc();
  const read = (): { busy: number; total: number } => {
    try {
      const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
      const v = fields.map(Number);
      const idle = v[3] + (v[4] ?? 0);
      const total = v.reduce((a, b) => a + b, 0);
      return { busy: total - idle, total };
    } catch {
      return { busy: NaN, total: NaN };
    }
  };
  const m0 = read();
  const p0 = process.cpuUsage();
  const e0 = performance.eventLoopUtilization();
  const g0 = gcMs;
  const h0 = process.memoryUsage().heapUsed;
  const t0 = now();
  return () => {
    const elu = performance.eventLoopUtilization(e0);
    const m1 = read();
    const p = process.cpuUsage(p0);
    const wallUs = (now() - t0) * 1000;
    const busyShare = (m1.busy - m0.busy) / (m1.total - m0.total);
    return {
      machineBusyPct: 100 * busyShare,
      // CPU time spent by the whole machine (every process, every core) over the interval.
      machineCpuMs: busyShare * availableParallelism() * (wallUs / 1000),
      nodeCpuPct: (100 * (p.user + p.system)) / wallUs,
      eventLoopPct: 100 * elu.utilization,
      // Time in GC pauses, and what the heap kept (objects that lived long enough to be promoted).
      gcPct: (100 * (gcMs - g0) * 1000) / wallUs,
      heapGrowthBytes: process.memoryUsage().heapUsed - h0,
    };
  };
}

/** Machine CPU busy % over `ms`, and the 1-minute load average: is anything else running? */
export async function machineLoad(ms = 1000): Promise<{ busyPct: number; load1: number }> {
  const meter = cpuMeter();
  await sleep(ms);
  const { loadavg } = await import('node:os');
  return { busyPct: meter().machineBusyPct, load1: loadavg()[0] };
}
