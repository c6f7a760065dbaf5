/**
 * The outbox relay thread (see relay-thread.ts): hosts LeaderRelays, each with the publisher its
 * StartRelay message describes, and reports back what they publish and where they fail.
 */
import { parentPort } from 'node:worker_threads';
import { shutdownTelemetry, startTelemetry } from '@assent/telemetry';
import { LeaderRelay, relayBackoff, RelayNap } from './relay-leader';
import type { FromRelayThread, StartRelay, ThreadPublisher, ToRelayThread } from './relay-thread';

if (!parentPort) throw new Error('relay-thread.worker runs as a worker thread');
const port = parentPort;
const report = (message: FromRelayThread) => port.postMessage(message);
/** An error as plain data: errors of kafkajs and pg carry fields that do not clone. */
const failed = (id: number, error: unknown): FromRelayThread => ({
  type: 'error',
  id,
  error:
    error instanceof Error
      ? { name: error.name, message: error.message, stack: error.stack }
      : { name: 'Error', message: String(error) },
});

class HostedRelay {
  private stopping = false;
  private readonly nap = new RelayNap();
  private publisher: ThreadPublisher | null = null;
  private leader: LeaderRelay | null = null;
  private readonly running: Promise<void>;

  constructor(private readonly spec: StartRelay) {
    this.running = this.run();
  }

  /** Builds the publisher (again and again, backing off, while the broker is away), then leads. */
  private async run(): Promise<void> {
    const { id } = this.spec;
    for (let failures = 1; !this.stopping; failures++) {
      try {
        const factory = (await import(this.spec.publisher.module)) as {
          createRelayPublisher(options: unknown): Promise<ThreadPublisher>;
        };
        this.publisher = await factory.createRelayPublisher(this.spec.publisher.options);
        break;
      } catch (error) {
        report(failed(id, error));
        await this.nap.sleep(relayBackoff(failures), !this.stopping);
      }
    }
    if (this.stopping || !this.publisher) return;
    const publisher = this.publisher;
    const { nudgePending, reportPublished } = this.spec;
    this.leader = new LeaderRelay(this.spec.leader, (messages) => publisher.send(messages), {
      published: reportPublished ? (count) => report({ type: 'published', id, count }) : undefined,
      error: (error) => report(failed(id, error)),
      looking: () => Atomics.store(nudgePending, 0, 0),
    });
    this.leader.start();
  }

  nudge(): void {
    this.leader?.nudge();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.nap.wake();
    await this.running;
    await this.leader?.stop();
    await this.publisher?.close().catch((error: unknown) => report(failed(this.spec.id, error)));
  }
}

const relays = new Map<number, HostedRelay>();

port.on('message', (message: ToRelayThread) => {
  switch (message.type) {
    case 'start':
      // The relay's PRODUCER spans are made here, so this thread needs an SDK of its own when the
      // process traces; it exports them itself, configured by the same OTEL_* variables.
      if (message.telemetry) startTelemetry({ instrumentations: [] });
      relays.set(message.id, new HostedRelay(message));
      return;
    case 'nudge':
      relays.get(message.id)?.nudge();
      return;
    case 'stop': {
      const relay = relays.get(message.id);
      relays.delete(message.id);
      void (relay?.stop() ?? Promise.resolve())
        // Flush the spans while nothing runs here: the process may end without closing the thread.
        .then(() => (relays.size === 0 ? shutdownTelemetry() : undefined))
        .finally(() => report({ type: 'stopped', id: message.id }));
      return;
    }
    case 'close':
      void shutdownTelemetry().finally(() => port.close());
      return;
  }
});
