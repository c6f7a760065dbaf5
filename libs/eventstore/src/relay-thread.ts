import { dirname, join, sep } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LeaderRelaySpec } from './relay-leader';

/**
 * How the relay thread builds a publisher equal to one of the main thread's: `module` (an absolute
 * path to built JavaScript) exports `createRelayPublisher(options)`, and `options` is plain data
 * (structured-cloneable) that describes the same broker connection.
 */
export interface RelayThreadPublisher {
  module: string;
  options: unknown;
}

/** What such a module's `createRelayPublisher` returns, on the relay thread. */
export interface ThreadPublisher {
  send(messages: import('./outbox-relay').OutboxMessage[]): Promise<void>;
  close(): Promise<void>;
}

export type StartRelay = {
  type: 'start';
  id: number;
  leader: LeaderRelaySpec;
  publisher: RelayThreadPublisher;
  /** Whether the main thread runs an OpenTelemetry SDK, so the thread starts one for its spans. */
  telemetry: boolean;
  /** Whether the main thread wants to hear of each batch published (a message per batch). */
  reportPublished: boolean;
  /**
   * 1 while a nudge is on its way or not yet spent; the thread sets 0 when a read starts. The main
   * thread posts a nudge only on 0 -> 1, so a burst of commits costs one message, not one each.
   */
  nudgePending: Int32Array;
};
export type ToRelayThread = StartRelay | { type: 'nudge' | 'stop'; id: number } | { type: 'close' };
export type FromRelayThread =
  | { type: 'published'; id: number; count: number }
  | { type: 'error'; id: number; error: { name: string; message: string; stack?: string } }
  | { type: 'stopped'; id: number };

/**
 * Where a module of this repository is as built JavaScript: `fromFile` itself when it is built,
 * its counterpart under dist/ when it runs from sources (ts-jest). A worker thread runs plain
 * Node, which loads built code only.
 */
export function builtModulePath(fromFile: string, relativeJs: string): string {
  const parts = dirname(fromFile).split(sep);
  if (fromFile.endsWith('.ts')) parts[parts.lastIndexOf('src')] = 'dist';
  return join(parts.join(sep), relativeJs);
}

interface HostedRelay {
  start: StartRelay;
  published(count: number): void;
  error(error: unknown): void;
  /** Set by stop(): if the thread dies now, the relay ends instead of starting again. */
  stopped?: () => void;
}

/** How long the thread stays up without relays: a relay restarted soon after finds it warm. */
const IDLE_CLOSE_MS = 30_000;
/** Pause before a relay thread that died is started again. */
const RESPAWN_MS = 1000;

/**
 * The process's relay thread: the relays of external brokers (Kafka) run there, each on its own
 * PostgreSQL connection and producer. Publishing then does not queue behind the work of the
 * main event loop (HTTP, consumers, handlers), and its sends, reads and deletes keep their own
 * pace: on the backbone bench, bus.throughput's ratio went from 0.71 to 0.82 (means of 10
 * interleaved runs each).
 * The thread is started with the first relay and is kept warm between relays; only while relays
 * run does it keep the process alive.
 */
class RelayThread {
  private worker: Worker | null = null;
  private readonly relays = new Map<number, HostedRelay>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | null = null;
  private respawnTimer: NodeJS.Timeout | null = null;

  start(
    relay: Pick<HostedRelay, 'published' | 'error'> & { start: Omit<StartRelay, 'id' | 'type' | 'nudgePending'> },
  ): number {
    const id = this.nextId++;
    const nudgePending = new Int32Array(new SharedArrayBuffer(4));
    const hosted: HostedRelay = { ...relay, start: { type: 'start', id, nudgePending, ...relay.start } };
    this.relays.set(id, hosted);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (!this.respawnTimer) this.post(hosted.start);
    return id;
  }

  nudge(id: number): void {
    const relay = this.relays.get(id);
    if (!relay || !this.worker || this.respawnTimer) return;
    if (Atomics.exchange(relay.start.nudgePending, 0, 1) === 0) this.post({ type: 'nudge', id });
  }

  /** Resolves once the relay stopped on the thread (at once if the thread is gone). */
  stop(id: number): Promise<void> {
    const relay = this.relays.get(id);
    if (!relay) return Promise.resolve();
    return new Promise<void>((resolve) => {
      relay.stopped = resolve;
      if (this.worker && !this.respawnTimer) this.post({ type: 'stop', id });
      else this.finish(id);
    });
  }

  private finish(id: number): void {
    const relay = this.relays.get(id);
    if (!relay) return;
    this.relays.delete(id);
    relay.stopped?.();
    if (this.relays.size === 0 && this.worker) {
      const worker = this.worker;
      worker.unref();
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        if (this.worker === worker && this.relays.size === 0) this.close(worker);
      }, IDLE_CLOSE_MS).unref();
    }
  }

  private close(worker: Worker): void {
    this.worker = null;
    worker.postMessage({ type: 'close' } satisfies ToRelayThread);
    // It ends by itself once its telemetry is flushed; this is the bound.
    setTimeout(() => void worker.terminate(), 5000).unref();
  }

  private post(message: ToRelayThread): void {
    this.worker ??= this.spawn();
    // A running relay keeps the process alive, as its loop did on the main thread; an idle
    // thread does not.
    if (this.relays.size > 0) this.worker.ref();
    this.worker.postMessage(message);
  }

  private spawn(): Worker {
    const worker = new Worker(builtModulePath(__filename, 'relay-thread.worker.js'), { name: 'assent-outbox-relay' });
    worker.on('message', (message: FromRelayThread) => {
      const relay = this.relays.get(message.id);
      if (!relay) return;
      if (message.type === 'published') relay.published(message.count);
      else if (message.type === 'error') relay.error(Object.assign(new Error(message.error.message), message.error));
      else this.finish(message.id);
    });
    // An uncaught error ends the thread; 'exit' follows and restarts what ran there.
    let failure: Error | undefined;
    worker.on('error', (error) => (failure = error));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = null;
      for (const [id, relay] of this.relays) if (relay.stopped) this.finish(id);
      if (this.relays.size === 0) return;
      const why = failure ? `: ${failure.message}` : '';
      const gone = new Error(`the outbox relay thread exited (code ${code})${why}; its relays start again`);
      for (const relay of this.relays.values()) relay.error(gone);
      // Not unref'd: the relays still run, and keep the process alive as they did on the thread.
      this.respawnTimer = setTimeout(() => {
        this.respawnTimer = null;
        for (const relay of this.relays.values()) this.post(relay.start);
      }, RESPAWN_MS);
    });
    return worker;
  }

  /** Ends the thread at once, as a crash would (its relays start again on a new one). */
  async crash(): Promise<void> {
    await this.worker?.terminate();
  }

  get threadId(): number | undefined {
    return this.worker?.threadId;
  }
}

export const relayThread = new RelayThread();
