import { EventPattern } from '@nestjs/microservices';

/**
 * Marks a controller method as the handler of one event type (`<service>.<EventName>`), called with
 * the validated envelope (`@Payload()`) and the HandlerContext (`@Ctx()`) of its transaction.
 * It is `@EventPattern` with the plain MethodDecorator typing, so handlers can type their context.
 */
export function HandlesEvent(type: string): MethodDecorator {
  return (EventPattern as (metadata: string) => MethodDecorator)(type);
}
