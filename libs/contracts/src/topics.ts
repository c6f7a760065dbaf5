/** The six services of DESIGN.md; each owns one event topic. */
export const SERVICES = ['intent', 'catalog', 'cart', 'consent', 'payment', 'aftersales'] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * One topic per service's events, keyed by stream id. A namespace keeps environments (and test runs)
 * sharing one broker apart; it comes from ASSENT_TOPIC_NAMESPACE in deployments.
 */
export function eventTopic(service: string, namespace = process.env.ASSENT_TOPIC_NAMESPACE ?? 'assent'): string {
  return `${namespace}.${service}.events`;
}

/** Dead letters of a topic: the original bytes with the reason in headers. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** The service that owns an event type, from its `<service>.<EventName>` form. */
export function serviceOfEventType(type: string): string {
  return type.slice(0, type.indexOf('.'));
}
