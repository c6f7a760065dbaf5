import { EventRegistry } from '../registry';
import { aftersalesEvents } from './aftersales-events';
import { cartEvents } from './cart-events';
import { catalogEvents } from './catalog-events';
import { consentEvents } from './consent-events';
import { intentEvents } from './intent-events';
import { paymentEvents } from './payment-events';

export * from './common';
export * from './cart-hash';
export * from './money';
export * from './pricing';
export * from './intent-statement';
export * from './intent-events';
export * from './catalog-events';
export * from './cart-events';
export * from './consent-events';
export * from './payment-events';
export * from './aftersales-events';

/** Every shopping event: each service reads its own and the ones it consumes through this registry. */
export function shoppingRegistry(): EventRegistry {
  return new EventRegistry().register(
    ...[...intentEvents, ...catalogEvents, ...cartEvents, ...consentEvents, ...paymentEvents, ...aftersalesEvents].map(
      (d) => d as Parameters<EventRegistry['register']>[0],
    ),
  );
}
